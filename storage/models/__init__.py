"""Typed SQLAlchemy models: the whole schema, every row scoped by Discord guild id.

A package of cohesive modules, each re-exported here so `from storage.models import X`
is the one way to import a model:
- `base`: `Base` with its naming convention, the allowed values of status-like columns and
  the helpers the model modules share (the composite foreign key to members);
- `members`: the member and the rows a member owns (study logs, milestone states, answer
  feedback, unanswered questions);
- `guilds`: per-guild configuration (settings, FAQ overrides, phase roles) and bot state;
- `challenges`: challenges, their participants and announcements;
- `deliveries`: weekly nudge and digest deliveries;
- `scope`: which tables forget-me deletes from and which columns it anonymises.

Every model module must be imported here: `Base.metadata` (read by the Alembic environment
and by `member_scoped_tables`) holds only the tables of modules that were imported, and a
module missing here would silently drop out of migrations and of forget-me (a test checks
that this file imports every module of the package).

Tables for later features (challenges, nudge and digest deliveries, FAQ overrides) were
here from the first migration, so those issues only added code, not risky schema changes.
The migrations in `storage/migrations/versions` must match these models; a test compares
them with Alembic's autogenerate diff.
"""

from storage.models.base import (
    ANNOUNCEMENT_KINDS,
    CHALLENGE_METRICS,
    CHALLENGE_STATES,
    DELIVERY_STATUSES,
    MILESTONE_STATUSES,
    NAMING_CONVENTION,
    NUDGE_CHANNELS,
    ROLE_STATES,
    Base,
)
from storage.models.challenges import Challenge, ChallengeAnnouncement, ChallengeParticipant
from storage.models.deliveries import DigestDelivery, NudgeDelivery
from storage.models.guilds import BotState, GuildFaqOverride, GuildPhaseRole, GuildSettings
from storage.models.members import (
    NUDGE_RECHECK,
    AnswerFeedback,
    Member,
    MilestoneStatus,
    StudyLog,
    UnansweredQuestion,
)
from storage.models.scope import member_reference_columns, member_scoped_tables

__all__ = [
    "ANNOUNCEMENT_KINDS",
    "CHALLENGE_METRICS",
    "CHALLENGE_STATES",
    "DELIVERY_STATUSES",
    "MILESTONE_STATUSES",
    "NAMING_CONVENTION",
    "NUDGE_CHANNELS",
    "NUDGE_RECHECK",
    "ROLE_STATES",
    "AnswerFeedback",
    "Base",
    "BotState",
    "Challenge",
    "ChallengeAnnouncement",
    "ChallengeParticipant",
    "DigestDelivery",
    "GuildFaqOverride",
    "GuildPhaseRole",
    "GuildSettings",
    "Member",
    "MilestoneStatus",
    "NudgeDelivery",
    "StudyLog",
    "UnansweredQuestion",
    "member_reference_columns",
    "member_scoped_tables",
]
