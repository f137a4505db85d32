"""Lambda for the trading endpoint group (orders, fills, positions, balance)."""
from mangum import Mangum

from pmrouter.bootstrap import bootstrap

bootstrap()

from pmrouter.api.app import create_app  # noqa: E402
from pmrouter.routes import orders  # noqa: E402

ROUTERS = [orders.router]
app = create_app(ROUTERS, title="pmrouter trading")
handler = Mangum(app, lifespan="off")
