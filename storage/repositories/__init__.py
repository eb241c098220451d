"""Repositories: one class per aggregate, each wrapping an `AsyncSession`.

They never commit or roll back: a service opens the transaction (`storage.engine.transaction`)
and hands the session in, so a service call is one atomic unit however many repositories
it touches. They return ORM rows or plain tuples; services turn those into dataclasses.
"""

from storage.repositories.feedback import FeedbackRepository, UnansweredGroup
from storage.repositories.guild_config import GuildConfigRepository
from storage.repositories.guilds import GuildRepository
from storage.repositories.leaderboards import Board, LeaderboardRepository, RankedRow
from storage.repositories.members import MemberRepository
from storage.repositories.milestones import MilestoneRepository
from storage.repositories.privacy import PrivacyRepository
from storage.repositories.study_logs import LogTotals, StudyLogRepository

__all__ = [
    "Board",
    "FeedbackRepository",
    "GuildConfigRepository",
    "GuildRepository",
    "LeaderboardRepository",
    "LogTotals",
    "MemberRepository",
    "MilestoneRepository",
    "PrivacyRepository",
    "RankedRow",
    "StudyLogRepository",
    "UnansweredGroup",
]
