"""Persistence: models, engine factory, repositories, migrations.

Never imports discord or knowledge. Entry points: `storage.engine.make_engine`,
`storage.engine.make_sessionmaker`, `storage.engine.transaction`, `storage.migrate.upgrade`.
"""
