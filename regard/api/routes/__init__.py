"""One router per resource; ``ROUTERS`` is what ``create_app`` mounts under ``/v1``."""
