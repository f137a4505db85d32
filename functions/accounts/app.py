"""Lambda for the account endpoint group (onboard, ping)."""
from mangum import Mangum

from pmrouter.bootstrap import bootstrap

bootstrap()

from pmrouter.api.app import create_app  # noqa: E402
from pmrouter.routes import account, activity, usage  # noqa: E402

ROUTERS = [account.router, usage.router, activity.router]
app = create_app(ROUTERS, title="pmrouter accounts")
handler = Mangum(app, lifespan="off")
