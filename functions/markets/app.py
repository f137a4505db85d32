"""Lambda for the market-data endpoint group. Thin: the routes live in the shared layer."""
from mangum import Mangum

from pmrouter.bootstrap import bootstrap

bootstrap()

from pmrouter.api.app import create_app  # noqa: E402
from pmrouter.routes import catalog, exchanges, marketdata  # noqa: E402

ROUTERS = [exchanges.router, catalog.router, marketdata.router]
app = create_app(ROUTERS, title="pmrouter markets")
handler = Mangum(app, lifespan="off")
