"""The OpenAPI 3.1 description served at ``/openapi.json`` (written out: the API is small)."""

from __future__ import annotations

from typing import Any

from fer_cli.serve._settings import ServeSettings

_ERROR = {"description": "what was wrong",
          "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
_UPLOAD = {
    "required": True,
    "content": {
        "multipart/form-data": {"schema": {"type": "object", "required": ["file"],
                                           "properties": {"file": {"type": "string", "format": "binary"}}}},
        "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
    },
}


def _errors(*codes: int) -> dict[str, Any]:
    return {str(code): _ERROR for code in codes}


def schema(settings: ServeSettings) -> dict[str, Any]:
    """The OpenAPI document, with this server's limits in the descriptions."""
    mb = 1024 * 1024
    job_ref = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Job"}}}}
    job_id = [{"name": "job_id", "in": "path", "required": True, "schema": {"type": "string"}}]
    security: list[dict[str, list[str]]] = [{"bearer": []}] if settings.token else []
    paths: dict[str, Any] = {
        "/healthz": {"get": {"summary": "Liveness: the model loaded, job counts (no token needed)",
                             "responses": {"200": {"description": "ok"}}}},
        "/v1/models": {"get": {"summary": "The loaded model (name, backend, classes) and the shipped ones",
                               "responses": {"200": {"description": "models"}, **_errors(401)}}},
        "/v1/faces": {"post": {
            "summary": "Every face of one image: box, landmarks, score, probabilities, label",
            "description": f"The image (JPEG, PNG, GIF: first frame, BMP, TIFF, WebP; type read from the "
                           f"bytes) as the multipart field 'file' or as the raw body, at most "
                           f"{settings.max_image_bytes / mb:g} MB. The numbers are those `fercli analyze` "
                           f"writes for the same image.",
            "requestBody": _UPLOAD,
            "responses": {"200": {"description": "the faces", "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/Faces"}}}}, **_errors(400, 401, 413, 415, 422)}}},
        "/v1/videos": {"post": {
            "summary": "Start a video job (CSV, JSON, PNG timeline and annotated MP4, as fercli analyze)",
            "description": f"The video (MP4, MOV, MKV, WebM, AVI, Y4M, animated GIF) as the multipart field "
                           f"'file' or the raw body, at most {settings.max_video_bytes / mb:g} MB; "
                           f"{settings.workers} worker(s), at most {settings.queue_size} waiting; "
                           f"jobs are removed {settings.job_ttl:g} s after they end.",
            "requestBody": _UPLOAD,
            "responses": {"202": {"description": "queued", **job_ref},
                          **_errors(400, 401, 413, 415, 422, 503)}}},
        "/v1/jobs/{job_id}": {
            "get": {"summary": "A job's status and progress (and, when done, its summary and file links)",
                    "parameters": job_id, "responses": {"200": {"description": "the job", **job_ref},
                                                        **_errors(401, 404)}},
            "delete": {"summary": "Cancel a queued or running job, or delete an ended one and its files",
                       "parameters": job_id, "responses": {"200": {"description": "the job", **job_ref},
                                                           **_errors(401, 404)}}},
        "/v1/jobs/{job_id}/files/{kind}": {"get": {
            "summary": "A finished job's output: csv, json, png or video (annotated MP4)",
            "parameters": [*job_id, {"name": "kind", "in": "path", "required": True,
                                     "schema": {"enum": ["csv", "json", "png", "video"]}}],
            "responses": {"200": {"description": "the file"}, **_errors(401, 404, 409)}}},
        "/v1/live": {"get": {
            "summary": "WebSocket: binary JPEG/PNG frames in, one JSON message per analyzed frame out",
            "description": "Per connection one tracker and smoother (fer-temporal's). Frames that arrive "
                           "while one waits replace it: each reply counts them in 'dropped'. "
                           f"At most {settings.max_frame_bytes / mb:g} MB per frame.",
            "responses": {"101": {"description": "switching protocols"}}}},
    }
    point = {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2}
    face = {"type": "object", "required": ["box", "score", "probabilities", "label"], "properties": {
        "box": {"type": "array", "items": {"type": "number"}, "description": "x0, y0, x1, y1 in pixels"},
        "landmarks": {"type": ["object", "null"], "additionalProperties": point},
        "score": {"type": "number"},
        "probabilities": {"type": "object", "additionalProperties": {"type": "number"}},
        "label": {"type": "string"}}}
    components: dict[str, Any] = {"schemas": {
        "Error": {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}},
        "Face": face,
        "Faces": {"type": "object", "properties": {
            "faces": {"type": "array", "items": {"$ref": "#/components/schemas/Face"}},
            "width": {"type": "integer"}, "height": {"type": "integer"}, "model": {"type": "string"},
            "classes": {"type": "array", "items": {"type": "string"}}}},
        "Job": {"type": "object", "properties": {
            "id": {"type": "string"},
            "status": {"enum": ["queued", "running", "cancelling", "done", "failed", "cancelled"]},
            "progress": {"type": "object"}, "error": {"type": ["string", "null"]},
            "files": {"type": "object", "additionalProperties": {"type": "string"}}}},
    }}
    if settings.token:
        components["securitySchemes"] = {"bearer": {"type": "http", "scheme": "bearer"}}
    from fer_core import __version__

    info = {"title": "fer serve", "version": __version__,
            "description": "Facial emotion recognition over HTTP (fercli serve)"}
    return {"openapi": "3.1.0", "info": info,
            "paths": paths, "components": components, "security": security}
