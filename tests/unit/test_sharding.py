"""Guild-to-shard mapping, the shard settings, and the SQL filter built from them."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, select
from sqlalchemy.dialects import sqlite
from sqlalchemy.dialects.postgresql import asyncpg

from bot.database import pool_options
from bot.settings import Settings
from storage.sharding import ShardScope, format_ids, parse_shard_ids, shard_of


# Discord's documentation ("Sharding"): shard_id = (guild_id >> 22) % num_shards, i.e. the
# snowflake's millisecond timestamp modulo the shard count. Written out independently here:
# the timestamp is the id divided by 2**22, rounded down.
def documented(guild_id: int, num_shards: int) -> int:
    return (guild_id // 2**22) % num_shards


SNOWFLAKES = [
    41771983423143937,  # Discord's own example snowflake in its API reference
    81384788765712384,  # the Discord API server
    175928847299117063,
    1_234_567_890_123_456_789,
    2**63 - 1,
]


@pytest.mark.parametrize("count", [1, 2, 3, 16, 1000])
def test_shard_of_matches_the_documented_formula(count) -> None:
    for guild in SNOWFLAKES + list(range(0, 2**40, 2**33 + 12345)):
        assert shard_of(guild, count) == documented(guild, count)


def test_documented_example_values() -> None:
    # 175928847299117063 >> 22 = 41944705796; modulo 16 shards -> 4.
    assert 175928847299117063 >> 22 == 41944705796
    assert shard_of(175928847299117063, 16) == 4
    assert shard_of(81384788765712384, 1) == 0


def test_sql_filter_agrees_with_python_on_sqlite() -> None:
    """The filter pushed into the planning queries selects exactly the owned guilds."""
    table = Table("g", MetaData(), Column("guild_id", Integer))
    guilds = SNOWFLAKES + [((300_000_000_000 + i * 7_919) << 22) | i for i in range(500)]
    scope = ShardScope.of(5, {1, 3})
    sql = str(
        select(table.c.guild_id)
        .where(scope.where(table.c.guild_id))
        .compile(dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True})
    )
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE g (guild_id INTEGER)")
    db.executemany("INSERT INTO g VALUES (?)", [(g,) for g in guilds])
    got = {row[0] for row in db.execute(sql)}
    assert got
    assert got == {g for g in guilds if scope.owns(g)}


def test_sql_filter_is_shift_and_modulo_on_postgresql() -> None:
    table = Table("g", MetaData(), Column("guild_id", Integer))
    sql = str(
        ShardScope.of(4, {0, 2})
        .where(table.c.guild_id)
        .compile(dialect=asyncpg.dialect(), compile_kwargs={"literal_binds": True})
    )
    assert sql == "((g.guild_id >> 22) % 4) IN (0, 2)"
    assert str(ShardScope.of(4).where(table.c.guild_id)) == "true"  # all shards: no filter


@pytest.mark.parametrize(
    ("text", "ids"),
    [("0-3", {0, 1, 2, 3}), ("4,5", {4, 5}), (" 0-1, 6 ", {0, 1, 6}), ("7", {7})],
)
def test_parse_shard_ids(text, ids) -> None:
    assert parse_shard_ids(text) == ids
    assert parse_shard_ids(format_ids(ids)) == ids


@pytest.mark.parametrize("text", ["", "a", "3-1", "1,,2", "-1", "1-", "0.5"])
def test_parse_shard_ids_refuses(text) -> None:
    with pytest.raises(ValueError, match="shard"):
        parse_shard_ids(text)


def test_scope_refuses_impossible_ranges() -> None:
    with pytest.raises(ValueError, match=r"outside 0\.\.3"):
        ShardScope.of(4, {4})
    with pytest.raises(ValueError, match="at least one shard"):
        ShardScope.of(4, set())


def _settings(tmp_path, monkeypatch, **env: str) -> Settings:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return Settings(_env_file=None, mentor_data_dir=tmp_path)  # type: ignore[call-arg]


def test_settings_default_is_one_process_with_every_shard(tmp_path, monkeypatch) -> None:
    s = _settings(tmp_path, monkeypatch)
    assert (s.mentor_shard_count, s.shard_ids, s.shares_shards) == (None, None, False)


def test_settings_split_range(tmp_path, monkeypatch) -> None:
    s = _settings(tmp_path, monkeypatch, MENTOR_SHARD_COUNT="8", MENTOR_SHARD_IDS="4-7")
    assert s.shard_ids == {4, 5, 6, 7}
    assert s.shares_shards
    whole = _settings(tmp_path, monkeypatch, MENTOR_SHARD_COUNT="2", MENTOR_SHARD_IDS="0,1")
    assert not whole.shares_shards


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"MENTOR_SHARD_IDS": "0-1"}, "needs MENTOR_SHARD_COUNT"),
        ({"MENTOR_SHARD_COUNT": "4", "MENTOR_SHARD_IDS": "2-4"}, r"names shard\(s\) \[4\]"),
        ({"MENTOR_SHARD_COUNT": "4", "MENTOR_SHARD_IDS": "x"}, "must look like '0-3'"),
        ({"MENTOR_SHARD_COUNT": "0"}, "greater than or equal to 1"),
    ],
)
def test_settings_refuse_bad_shards(tmp_path, monkeypatch, env, message) -> None:
    with pytest.raises(ValueError, match=message):
        _settings(tmp_path, monkeypatch, **env)


def test_pool_options_per_process(tmp_path, monkeypatch) -> None:
    """Bounded pools on PostgreSQL (many processes share max_connections); none on SQLite."""
    assert pool_options(_settings(tmp_path, monkeypatch)) == {}
    pg = _settings(
        tmp_path,
        monkeypatch,
        DATABASE_URL="postgresql+asyncpg://u:p@db/mentor",
        MENTOR_DB_POOL_SIZE="3",
        MENTOR_DB_MAX_OVERFLOW="2",
    )
    options = pool_options(pg)
    assert (options["pool_size"], options["max_overflow"]) == (3, 2)
