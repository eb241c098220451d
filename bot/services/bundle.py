"""One object holding every Discord-free service, for the composition root to build once."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.services.challenges import ChallengeService
from bot.services.clock import Clock, utc_now
from bot.services.feedback import FeedbackService
from bot.services.leaderboard import LeaderboardService
from bot.services.nudges import NudgeService
from bot.services.privacy import PrivacyService
from bot.services.profile import GuildSettingsService, ProfileService
from bot.services.progress import MilestoneService, PhaseService
from bot.services.stats import StatsService
from bot.services.study import StudyLogService
from knowledge.content import Guide


@dataclass(frozen=True, slots=True)
class ProgressServices:
    phases: PhaseService
    milestones: MilestoneService
    study: StudyLogService
    stats: StatsService
    leaderboard: LeaderboardService
    profile: ProfileService
    guild_settings: GuildSettingsService
    privacy: PrivacyService
    feedback: FeedbackService
    nudges: NudgeService
    challenges: ChallengeService
    guide: Guide
    # For the community scheduler, which drives deliveries across many members at once.
    sessionmaker: async_sessionmaker[AsyncSession]
    clock: Clock


def build_progress_services(
    sessionmaker: async_sessionmaker[AsyncSession], guide: Guide, clock: Clock = utc_now
) -> ProgressServices:
    """Wire every service to the same sessionmaker, guide and clock."""
    args = (sessionmaker, guide, clock)
    return ProgressServices(
        phases=PhaseService(*args),
        milestones=MilestoneService(*args),
        study=StudyLogService(*args),
        stats=StatsService(*args),
        leaderboard=LeaderboardService(*args),
        profile=ProfileService(*args),
        guild_settings=GuildSettingsService(*args),
        privacy=PrivacyService(*args),
        feedback=FeedbackService(*args),
        nudges=NudgeService(*args),
        challenges=ChallengeService(*args),
        guide=guide,
        sessionmaker=sessionmaker,
        clock=clock,
    )
