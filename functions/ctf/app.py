"""Lambda for the Polymarket CTF endpoint group (split, merge, redeem)."""
from mangum import Mangum

from pmrouter.bootstrap import bootstrap

bootstrap()

from pmrouter.api.app import create_app  # noqa: E402
from pmrouter.routes import ctf  # noqa: E402

ROUTERS = [ctf.router]
app = create_app(ROUTERS, title="pmrouter ctf")
handler = Mangum(app, lifespan="off")
