"""Discord-free application services: the console, the bot and the tests all call these.

Never imports discord. Services take an `async_sessionmaker`, the loaded `Guide` and a
clock, open one transaction per call, and return frozen dataclasses (never ORM rows).
"""
