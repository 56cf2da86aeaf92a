"""Extensions are created unbound here and bound to an app in `create_app`."""

from __future__ import annotations

import sqlalchemy as sa
from flask_bootstrap import Bootstrap5
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect

from program.db import Base

db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address)
bootstrap = Bootstrap5()


def database_is_empty() -> bool:
    """True when no Hallway table exists yet (a fresh install)."""
    return not sa.inspect(db.engine).has_table("person")
