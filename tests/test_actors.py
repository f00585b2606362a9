"""Services that act for someone check that someone themselves, whatever door called them
(the pages' decorators are a second line, not the rule)."""
from __future__ import annotations

import pytest

from chatapp.extensions import db
from chatapp.models import User
from chatapp.services import accounts, sites, support
from chatapp.services.errors import ServiceError


def _user(users, name: str) -> User:
    return db.session.get(User, users[name].id)


@pytest.mark.parametrize("who", ["staff", "alice"])
def test_only_an_admin_creates_accounts_and_lists_them(app, users, who):
    with app.app_context():
        with pytest.raises(ServiceError) as refused:
            accounts.create_account(actor=_user(users, who), username="newstaff", password="long-enough-1",
                                    role="staff", display_name=None)
        assert refused.value.code == "forbidden"
        assert db.session.scalar(db.select(User).filter_by(username="newstaff")) is None
        with pytest.raises(ServiceError) as listing:
            accounts.list_users(actor=_user(users, who))
        assert listing.value.code == "forbidden"


def test_an_admin_creates_a_staff_account(app, users):
    with app.app_context():
        made = accounts.create_account(actor=_user(users, "admin"), username="newstaff", password="long-enough-1",
                                       role="staff", display_name=None)
        assert made.role == "staff"
        assert "newstaff" in [user.username for user in accounts.list_users(actor=_user(users, "admin"))]


@pytest.mark.parametrize("who", ["staff", "alice"])
def test_only_an_admin_registers_changes_and_lists_sites(app, users, who):
    with app.app_context():
        site = sites.create_site(actor=_user(users, "admin"), name="Shop", origins=["https://shop.example"])
        for attempt in (
            lambda: sites.create_site(actor=_user(users, who), name="Other", origins=["https://other.example"]),
            lambda: sites.update_site(actor=_user(users, who), site=site, name="Mine now", origins=["*"]),
            lambda: sites.list_sites(actor=_user(users, who)),
        ):
            with pytest.raises(ServiceError) as refused:
                attempt()
            assert refused.value.code == "forbidden"
        db.session.expire_all()
        assert [s.name for s in sites.list_sites(actor=None)] == ["Shop"]  # None: the operator's command line


def test_only_support_staff_list_canned_responses(app, users):
    with app.app_context():
        support.save_canned(agent=_user(users, "staff"), shortcut="hi", body="Hello!")
        with pytest.raises(ServiceError) as refused:
            support.list_canned(agent=_user(users, "alice"))
        assert refused.value.code == "forbidden"
        assert [c.shortcut for c in support.list_canned(agent=_user(users, "staff"))] == ["hi"]
