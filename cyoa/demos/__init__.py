"""Live demos of every deployment step of the story, run for real from the notebooks.

Each demo is a function: call it and it runs the real tools on loopback ports in a scratch
directory, narrates what it does, stops everything it started, and returns a
:class:`DemoResult` with the facts it showed. :func:`demo_names` lists them.
"""

from cyoa.demos.app import app_demo, git_clone_demo
from cyoa.demos.automation import automation_demo
from cyoa.demos.mail import email_invitations_demo
from cyoa.demos.nginx import nginx_502_demo
from cyoa.demos.postgres import postgres_demo
from cyoa.demos.replication import replication_demo
from cyoa.demos.runner import FACTS_MIME, REGISTRY, DemoResult
from cyoa.demos.scaling import scaling_demo
from cyoa.demos.security import security_demo
from cyoa.demos.static import static_files_demo
from cyoa.demos.tasks import async_rq_demo
from cyoa.demos.timeouts import timeouts_demo
from cyoa.demos.traction import traction_demo
from cyoa.demos.wsgi import gunicorn_demo


def demo_names() -> list[str]:
    """The names of the demos, as story scenes and notebook cell tags use them."""
    return sorted(REGISTRY)


def run_demo(name: str, **options: object) -> DemoResult:
    """Run the demo called ``name`` (as a scene names it)."""
    return REGISTRY[name](**options)


__all__ = [
    "FACTS_MIME",
    "DemoResult",
    "app_demo",
    "async_rq_demo",
    "automation_demo",
    "demo_names",
    "email_invitations_demo",
    "git_clone_demo",
    "gunicorn_demo",
    "nginx_502_demo",
    "postgres_demo",
    "replication_demo",
    "run_demo",
    "scaling_demo",
    "security_demo",
    "static_files_demo",
    "timeouts_demo",
    "traction_demo",
]
