"""Lambda for the builder endpoint group (end users, QPS pool, onboarding end users)."""
from mangum import Mangum

from pmrouter.bootstrap import bootstrap

bootstrap()

from pmrouter.api.app import create_app  # noqa: E402
from pmrouter.routes import builder  # noqa: E402

ROUTERS = [builder.router]
app = create_app(ROUTERS, title="pmrouter builder")
handler = Mangum(app, lifespan="off")
