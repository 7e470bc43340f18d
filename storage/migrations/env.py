from alembic import context
from sqlalchemy import engine_from_config, pool, text

from storage.models import Base

config = context.config
target_metadata = Base.metadata
MIGRATION_LOCK = 0x46524F4E544D4947  # "FRONTMIG"


def run_migrations_online() -> None:
    engine = engine_from_config(config.get_section(config.config_ini_section, {}), prefix="sqlalchemy.",
                                poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata,
                          render_as_batch=connection.dialect.name == "sqlite")
        with context.begin_transaction():
            if connection.dialect.name == "postgresql":  # replicas starting together migrate one at a time
                connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": MIGRATION_LOCK})
            context.run_migrations()


run_migrations_online()
