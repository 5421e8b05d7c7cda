// fer serve's page: live webcam analysis over a WebSocket, a timeline per face, photo/video upload.
// No build step, no library: plain DOM and canvas. Counters for tests live in <body data-*>.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const body = document.body;
  const COLORS = { angry: "#e53935", disgust: "#43a047", fear: "#8e24aa", happy: "#fdd835",
                   sad: "#1e88e5", surprise: "#fb8c00", neutral: "#90a4ae", contempt: "#f06292" };
  const params = new URLSearchParams(location.search);
  if (params.get("token")) sessionStorage.setItem("fer-token", params.get("token"));
  const token = sessionStorage.getItem("fer-token");
  const base = location.pathname.endsWith("/") ? location.pathname : location.pathname.replace(/[^/]*$/, "");
  const withToken = (url) => token ? url + (url.includes("?") ? "&" : "?") + "token=" + encodeURIComponent(token) : url;
  const headers = () => token ? { Authorization: "Bearer " + token } : {};
  const bump = (key, n) => { body.dataset[key] = String(Number(body.dataset[key] || 0) + (n === undefined ? 1 : n)); };
  const color = (label) => COLORS[label] || "#fff";

  // ---- live -------------------------------------------------------------------------------
  let stream = null, socket = null, inFlight = false, running = false, watchdog = null;
  const video = $("video"), overlay = $("overlay"), grab = document.createElement("canvas");
  const tracks = new Map();  // track id -> {points: [{t, p: {class: prob}}], canvas}
  const MAX_POINTS = 150;

  function setStatus(text) { $("status").textContent = text; }

  async function start() {
    $("start").disabled = true;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: { width: { ideal: 640 } }, audio: false });
    } catch (err) {
      setStatus("camera: " + err.name + " " + err.message);
      $("start").disabled = false;
      return;
    }
    video.srcObject = stream;
    await video.play().catch(() => {});
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    socket = new WebSocket(withToken(proto + "//" + location.host + base + "v1/live"));
    socket.binaryType = "arraybuffer";
    socket.onopen = () => { running = true; setStatus("live"); $("stop").disabled = false; sendFrame(); };
    socket.onmessage = (ev) => { inFlight = false; onReply(JSON.parse(ev.data)); if (running) sendFrame(); };
    socket.onclose = (ev) => { setStatus("closed" + (ev.code !== 1000 ? " (" + ev.code + " " + ev.reason + ")" : "")); stop(); };
    socket.onerror = () => setStatus("WebSocket error");
    watchdog = setInterval(() => { if (running && !inFlight) sendFrame(); }, 1000);
  }

  function stop() {
    running = false;
    if (watchdog) clearInterval(watchdog);
    if (socket && socket.readyState <= 1) socket.close(1000);
    if (stream) stream.getTracks().forEach((t) => t.stop());
    socket = null; stream = null; inFlight = false;
    $("start").disabled = false; $("stop").disabled = true;
  }

  function sendFrame() {
    if (!running || inFlight || !socket || socket.readyState !== 1 || !video.videoWidth) {
      if (running && !video.videoWidth) setTimeout(sendFrame, 100);
      return;
    }
    const w = Number($("width").value), h = Math.round(w * video.videoHeight / video.videoWidth);
    grab.width = w; grab.height = h;
    grab.getContext("2d").drawImage(video, 0, 0, w, h);
    inFlight = true;
    grab.toBlob((blob) => {
      if (!blob || !socket || socket.readyState !== 1) { inFlight = false; return; }
      blob.arrayBuffer().then((buf) => { socket.send(buf); bump("framesSent"); });
    }, "image/jpeg", 0.75);
  }

  function drawFaces(ctx, faces, scale, useSmoothed) {
    ctx.lineWidth = Math.max(2, 2 * scale);
    ctx.font = Math.round(14 * scale) + "px sans-serif";
    for (const f of faces) {
      const [x0, y0, x1, y1] = f.box.map((v) => v * scale);
      const label = useSmoothed && f.smoothed_label ? f.smoothed_label : f.label;
      const p = (useSmoothed && f.smoothed ? f.smoothed : f.probabilities)[label];
      ctx.strokeStyle = color(label);
      ctx.strokeRect(x0, y0, x1 - x0, y1 - y0);
      const text = (f.track_id !== undefined ? "#" + f.track_id + " " : "") + label + " " + p.toFixed(2);
      const tw = ctx.measureText(text).width + 6, th = Math.round(18 * scale);
      ctx.fillStyle = color(label);
      ctx.fillRect(x0, Math.max(0, y0 - th), tw, th);
      ctx.fillStyle = "#000";
      ctx.fillText(text, x0 + 3, Math.max(th, y0) - 4 * scale);
    }
  }

  function onReply(msg) {
    bump("replies");
    if (msg.error) { $("live-stats").textContent = "frame error: " + msg.error; return; }
    overlay.width = msg.width; overlay.height = msg.height;
    const ctx = overlay.getContext("2d");
    ctx.clearRect(0, 0, msg.width, msg.height);
    drawFaces(ctx, msg.faces, 1, true);
    bump("boxesDrawn", msg.faces.length);
    body.dataset.dropped = String(msg.dropped);
    $("live-stats").textContent = `frame ${msg.frame}: ${msg.faces.length} face(s), ${msg.ms.toFixed(0)} ms, ` +
      `${msg.processed} analyzed, ${msg.dropped} dropped`;
    for (const f of msg.faces) addPoint(f.track_id, msg.time, f.smoothed || f.probabilities);
  }

  function addPoint(id, t, probs) {
    let tr = tracks.get(id);
    if (!tr) {
      const canvas = document.createElement("canvas");
      canvas.dataset.track = String(id);
      canvas.setAttribute("aria-label", "timeline of face " + id);
      $("timelines").prepend(canvas);
      canvas.width = Math.max(280, Math.round(canvas.clientWidth || 600)); canvas.height = 110;
      tr = { points: [], canvas };
      tracks.set(id, tr);
    }
    tr.points.push({ t, p: probs });
    if (tr.points.length > MAX_POINTS) tr.points.shift();
    bump("timelinePoints");
    drawTimeline(id, tr);
  }

  function drawTimeline(id, tr) {
    const ctx = tr.canvas.getContext("2d"), W = tr.canvas.width, H = tr.canvas.height;
    ctx.clearRect(0, 0, W, H);
    const pts = tr.points, t0 = pts[0].t, t1 = Math.max(pts[pts.length - 1].t, t0 + 1);
    const x = (t) => 4 + (W - 8) * (t - t0) / (t1 - t0), y = (p) => H - 14 - (H - 22) * p;
    for (const cls of Object.keys(pts[0].p)) {
      ctx.strokeStyle = color(cls); ctx.lineWidth = 2; ctx.beginPath();
      pts.forEach((pt, i) => (i ? ctx.lineTo(x(pt.t), y(pt.p[cls])) : ctx.moveTo(x(pt.t), y(pt.p[cls]))));
      ctx.stroke();
    }
    const last = pts[pts.length - 1].p, top = Object.keys(last).reduce((a, b) => (last[a] >= last[b] ? a : b));
    ctx.fillStyle = "#222"; ctx.font = "12px sans-serif";
    ctx.fillText(`face #${id}: ${top} ${last[top].toFixed(2)} (last ${(t1 - t0).toFixed(0)} s)`, 6, H - 2);
  }

  $("start").addEventListener("click", start);
  $("stop").addEventListener("click", stop);

  // ---- upload -----------------------------------------------------------------------------
  const upStatus = (t) => { $("upload-status").textContent = t; };

  async function errorText(resp) {
    try { return (await resp.json()).error || resp.statusText; } catch (e) { return resp.statusText; }
  }

  function clearResult() {
    $("photo").hidden = true; $("plot").hidden = true; $("annotated").hidden = true;
    $("faces-table").innerHTML = ""; $("downloads").innerHTML = "";
  }

  async function uploadPhoto(file) {
    const form = new FormData(); form.append("file", file);
    const resp = await fetch(base + "v1/faces", { method: "POST", body: form, headers: headers() });
    if (!resp.ok) { upStatus("error " + resp.status + ": " + await errorText(resp)); return; }
    const res = await resp.json();
    const img = new Image();
    img.onload = () => {
      const canvas = $("photo"), scale = Math.min(1, 900 / res.width);
      canvas.width = Math.round(res.width * scale); canvas.height = Math.round(res.height * scale);
      const ctx = canvas.getContext("2d");
      ctx.drawImage(img, 0, 0, canvas.width, canvas.height);
      drawFaces(ctx, res.faces, scale * Math.max(1, res.width / 600), false);
      canvas.hidden = false;
      URL.revokeObjectURL(img.src);
    };
    img.src = URL.createObjectURL(file);
    const rows = res.faces.map((f, i) => "<tr><td>" + i + "</td><td>" + f.label + "</td>" +
      res.classes.map((c) => "<td>" + f.probabilities[c].toFixed(3) + "</td>").join("") + "</tr>");
    $("faces-table").innerHTML = "<tr><th>face</th><th>label</th>" + res.classes.map((c) => "<th>" + c + "</th>").join("") +
      "</tr>" + rows.join("");
    upStatus(res.faces.length + " face(s) in " + res.width + "x" + res.height);
  }

  async function uploadVideo(file) {
    const form = new FormData(); form.append("file", file);
    upStatus("uploading...");
    const resp = await fetch(base + "v1/videos", { method: "POST", body: form, headers: headers() });
    if (!resp.ok) { upStatus("error " + resp.status + ": " + await errorText(resp)); return; }
    let job = await resp.json();
    while (job.status === "queued" || job.status === "running") {
      const pr = job.progress;
      upStatus(job.status + (pr.total ? ` ${Math.round(100 * pr.frames / pr.total)}% (${pr.frames}/${pr.total} frames)` : ` ${pr.frames} frames`));
      await new Promise((r) => setTimeout(r, 1000));
      const poll = await fetch(base + "v1/jobs/" + job.id, { headers: headers() });
      if (!poll.ok) { upStatus("error " + poll.status + ": " + await errorText(poll)); return; }
      job = await poll.json();
    }
    if (job.status !== "done") { upStatus("job " + job.status + (job.error ? ": " + job.error : "")); return; }
    const file_url = (kind) => withToken(base + "v1/jobs/" + job.id + "/files/" + kind);
    $("plot").src = file_url("png"); $("plot").hidden = false;
    $("annotated").src = file_url("video"); $("annotated").hidden = false;
    $("downloads").innerHTML = ["csv", "json", "png", "video"].map((k) =>
      `<li><a href="${file_url(k)}" download>${k === "video" ? "annotated video" : k.toUpperCase()}</a></li>`).join("");
    const h = job.result.header;
    upStatus(`done: ${h.frames_processed} frames, ${h.faces} faces in ${h.tracks} track(s)`);
  }

  $("upload-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const file = $("file").files[0];
    if (!file) return;
    clearResult();
    const isVideo = file.type.startsWith("video/") || /\.(mp4|mov|m4v|mkv|webm|avi|y4m)$/i.test(file.name);
    (isVideo ? uploadVideo(file) : uploadPhoto(file)).catch((e) => upStatus("error: " + e));
  });
})();
