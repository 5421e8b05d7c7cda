"""``python -m fer_cli`` runs ``fercli``."""

from fer_cli.main import main

if __name__ == "__main__":
    main()
