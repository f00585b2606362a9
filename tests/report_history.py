"""A stored desk history whose report was computed by hand: tests/test_reports.py and the browser test share it.

Two sites with a team each, in two time zones, and one site of no team:

- "Berlin shop" (team Europe), Europe/Berlin, UTC+1 in November, open Monday to Friday
  09:00-17:00 local, that is 08:00-16:00 UTC. 2026-11-02 is a Monday.
- "Shanghai shop" (team Asia), Asia/Shanghai, UTC+8, no schedule (always open: business
  hours equal clock time).
- "Free site" (no team), UTC, no schedule.

The range is 2026-11-02 to 2026-11-04 (local dates). Every episode, in UTC, with what it
counts for (FR = first response, RES = resolution; clock / business seconds):

  E1 Berlin  opened Mon 07:30 (08:30 local, before opening)  FR 08:10  resolved 09:00   Ada, 2 replies
             FR 2400 / 600 (08:00-08:10)           RES 5400 / 3600 (08:00-09:00)
  E2 Berlin  opened Mon 15:50 (16:50 local)  FR 16:20 (after closing)  resolved Tue 08:30   Ada, 4 replies
             FR 1800 / 600 (15:50-16:00)           RES 60000 / 2400 (15:50-16:00 + Tue 08:00-08:30)
  E3 Berlin  opened Tue 23:30 = Wed 00:30 local: counts on Wednesday  FR Wed 08:05  resolved 10:00   Ada, 1
             FR 30900 / 300 (08:00-08:05)          RES 37800 / 7200 (08:00-10:00)
  E4 Berlin  opened Sun 22:30 (Sun 23:30 local: out of range)  FR Mon 08:15  resolved Mon 08:20   Ada, 3
             counts only as resolved on Monday:    RES 35400 / 1200 (Mon 08:00-08:20)
  E5 Berlin  opened Wed 10:00 (11:00 local), never answered nor resolved: nobody's
  S1 Shanghai opened Mon 01:00 (09:00 local)  FR 01:02  resolved 02:00   Bo, 2 replies
             FR 120                                 RES 3600
  S2 Shanghai opened Mon 17:00 = Tue 01:00 local: counts on Tuesday  FR 17:10  resolved 19:00 (Tue 03:00)  Bo, 6
             FR 600                                 RES 7200
  S3 Shanghai opened Wed 15:30 (23:30 local)  FR 15:45  resolved 16:30 = Thu 00:30 local: out of range   Bo
             FR 900; not resolved in range
  S4 Shanghai opened Wed 16:30 = Thu 00:30 local: out of range altogether
  F1 Free    opened Tue 12:00  FR 12:01  resolved 12:30, by the admin with nobody assigned: the admin's, 1 reply
             FR 60                                  RES 1800

Ratings (Conversation.rating, rated_at UTC): E1 5 "Quick and kind" Mon 09:30; E2 3 (no comment)
Tue 08:40; S1 4 '=HYPERLINK("http://evil.example")' Mon 02:30; S2 2 "Slow" Mon 19:30 (Tue 03:30 local:
Tuesday); F1 5 "Thanks" Tue 12:40; E4 5 "Late" Thu 2026-11-05 09:00 (out of range).
Labels: "billing" on E1 and S1, "bug" on E2.

Everything, as the admin sees it:
  opened 8 (Mon E1 E2 S1 = 3, Tue S2 F1 = 2, Wed E3 E5 S3 = 3)
  resolved 7 (Mon E1 E4 S1 = 3, Tue E2 S2 F1 = 3, Wed E3 = 1)
  FR clock sorted 60 120 600 900 1800 2400 30900: median rank ceil(.5*7)=4 -> 900, p90 rank ceil(.9*7)=7 -> 30900
  FR business sorted 60 120 300 600 600 600 900: median 600, p90 900
  RES clock sorted 1800 3600 5400 7200 35400 37800 60000: median 7200, p90 60000
  RES business sorted 1200 1800 2400 3600 3600 7200 7200: median 3600, p90 7200
  replies per conversation (2+4+1+3+2+6+1)/7 = 19/7 = 2.71
  ratings 5 3 4 2 5: average 19/5 = 3.8; distribution 1:0 2:1 3:1 4:1 5:2
  comments newest first: Thanks, Slow, Quick and kind, =HYPERLINK...
  busiest local hours: E3 0, S2 1, E1 8, S1 9, E5 11, F1 12, E2 16, S3 23 (one each)
Per agent (clock):
  Ada  E1-E4: opened 3, resolved 4; FR 1800 2400 30900 -> median (rank 2) 2400, p90 (rank 3) 30900;
       RES 5400 35400 37800 60000 -> median (rank 2) 35400, p90 (rank 4) 60000; replies 10/4 = 2.5; ratings 5 3 -> 4.0
  Bo   S1-S3: opened 3, resolved 2; FR 120 600 900 -> 600, 900; RES 3600 7200 -> 3600, 7200; replies 8/2 = 4;
       ratings 4 2 -> 3.0
  Admin F1: 1, 1; FR 60, 60; RES 1800, 1800; replies 1; rating 5
  Nobody E5: opened 1, resolved 0
Per label: billing (E1, S1): opened 2, resolved 2, FR 120 2400 -> 120, 2400; RES 3600 5400 -> 3600, 5400;
  replies 2.0; ratings 5 4 -> 4.5.  bug (E2): 1, 1, FR 1800, RES 60000, replies 4, rating 3.
The Europe lead (Berlin only):
  opened 4 (Mon 2, Tue 0, Wed 2), resolved 4 (Mon 2, Tue 1, Wed 1), ratings 5 3 -> 4.0
  clock: the numbers of Ada above. business: FR 300 600 600 -> 600, 600; RES 1200 2400 3600 7200 -> 2400, 7200
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from chatapp.extensions import db
from chatapp.models import Conversation, ConversationLabel, Episode, Label, Site
from chatapp.services import accounts, sites, teams, visitors
from harness.database import PASSWORD

START, END = date(2026, 11, 2), date(2026, 11, 4)
WEEKDAYS_9_TO_5 = {str(day): [["09:00", "17:00"]] for day in range(5)}


@dataclass(frozen=True)
class History:
    """The ids a test needs: people, teams, sites, labels."""

    users: dict[str, int]
    teams: dict[str, int]
    sites: dict[str, int]
    labels: dict[str, int]


def at(text: str) -> datetime:
    """A naive UTC moment from "2026-11-02 07:30"."""
    return datetime.fromisoformat(text)


def _site(name: str, timezone: str, schedule, team_id: int | None, origin: str) -> Site:
    site = sites.create_site(actor=None, name=name, origins=[origin])
    site.timezone = timezone
    site.schedule = schedule
    db.session.commit()
    if team_id is not None:
        teams.set_site_team(actor=None, site=site, team_id=team_id)
    return site


def _conversation(site: Site, origin: str) -> Conversation:
    return visitors.start_session(site_key=site.site_key, origin=origin, own_origin=origin).conversation


def seed_history(app, origin: str = "https://shop.example") -> History:
    """Store the history above (people made through the real services, episodes and ratings as rows)."""
    with app.app_context():
        people = {}
        for username, role, name in [("admin", "admin", "Admin"), ("lead_e", "staff", "Lena Lead"),
                                     ("lead_a", "staff", "Li Lead"), ("ada", "staff", "Ada"), ("boris", "staff", "Bo"),
                                     ("plainstaff", "staff", "Pat Staff"), ("member", "member", "Mo Member")]:
            people[username] = accounts.create_user(username=username, password=PASSWORD, role=role,
                                                    display_name=name)
        europe = teams.save_team(actor=None, name="Europe")
        asia = teams.save_team(actor=None, name="Asia")
        teams.set_member(actor=None, team=europe, user=people["lead_e"], lead=True)
        teams.set_member(actor=None, team=europe, user=people["ada"])
        teams.set_member(actor=None, team=europe, user=people["plainstaff"])
        teams.set_member(actor=None, team=asia, user=people["lead_a"], lead=True)
        teams.set_member(actor=None, team=asia, user=people["boris"])
        berlin = _site("Berlin shop", "Europe/Berlin", WEEKDAYS_9_TO_5, europe.id, origin)
        shanghai = _site("Shanghai shop", "Asia/Shanghai", None, asia.id, origin)
        free = _site("Free site", "UTC", None, None, origin)
        billing, bug = Label(name="billing"), Label(name="bug")
        db.session.add_all([billing, bug])
        db.session.commit()

        ada, bo, admin = people["ada"].id, people["boris"].id, people["admin"].id
        # site, opened, first response, responder, resolved, assignee, replies, (rating, comment, rated_at), labels
        episodes = {
            "E1": (berlin, "2026-11-02 07:30", "2026-11-02 08:10", ada, "2026-11-02 09:00", ada, 2,
                   (5, "Quick and kind", "2026-11-02 09:30"), [billing]),
            "E2": (berlin, "2026-11-02 15:50", "2026-11-02 16:20", ada, "2026-11-03 08:30", ada, 4,
                   (3, None, "2026-11-03 08:40"), [bug]),
            "E3": (berlin, "2026-11-03 23:30", "2026-11-04 08:05", ada, "2026-11-04 10:00", ada, 1, None, []),
            "E4": (berlin, "2026-11-01 22:30", "2026-11-02 08:15", ada, "2026-11-02 08:20", ada, 3,
                   (5, "Late", "2026-11-05 09:00"), []),
            "E5": (berlin, "2026-11-04 10:00", None, None, None, None, 0, None, []),
            "S1": (shanghai, "2026-11-02 01:00", "2026-11-02 01:02", bo, "2026-11-02 02:00", bo, 2,
                   (4, '=HYPERLINK("http://evil.example")', "2026-11-02 02:30"), [billing]),
            "S2": (shanghai, "2026-11-02 17:00", "2026-11-02 17:10", bo, "2026-11-02 19:00", bo, 6,
                   (2, "Slow", "2026-11-02 19:30"), []),
            "S3": (shanghai, "2026-11-04 15:30", "2026-11-04 15:45", bo, "2026-11-04 16:30", bo, 3, None, []),
            "S4": (shanghai, "2026-11-04 16:30", "2026-11-04 16:40", bo, "2026-11-04 17:00", bo, 1, None, []),
            "F1": (free, "2026-11-03 12:00", "2026-11-03 12:01", admin, "2026-11-03 12:30", None, 1,
                   (5, "Thanks", "2026-11-03 12:40"), []),
        }
        for (site, opened, answered, responder, resolved, assignee, replies, rating, labels) in episodes.values():
            conversation = _conversation(site, origin)
            db.session.add(Episode(
                conversation_id=conversation.id, site_id=site.id, opened_at=at(opened),
                first_response_at=at(answered) if answered else None, first_responder_id=responder,
                resolved_at=at(resolved) if resolved else None, resolved_by_id=responder if resolved else None,
                assignee_id=assignee, agent_replies=replies,
            ))
            if resolved:
                conversation.status, conversation.resolved_at = "resolved", at(resolved)
            if rating:
                conversation.rating, conversation.rating_comment, conversation.rated_at = (
                    rating[0], rating[1], at(rating[2]))
            for label in labels:
                db.session.add(ConversationLabel(conversation_id=conversation.id, label_id=label.id))
        db.session.commit()
        return History(
            users={username: user.id for username, user in people.items()},
            teams={"Europe": europe.id, "Asia": asia.id},
            sites={"Berlin shop": berlin.id, "Shanghai shop": shanghai.id, "Free site": free.id},
            labels={"billing": billing.id, "bug": bug.id},
        )
