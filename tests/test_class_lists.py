"""Class lists: a teacher enrols a pasted or uploaded list; new students sign in once with a code and choose a
password."""
from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest

from chatapp.extensions import db
from chatapp.models import Membership, SignInCode, User
from chatapp.services import class_lists, rooms
from chatapp.services.errors import ServiceError

from .conftest import AuthActions, csrf_token_from, detached
from .helpers import logged_in
from .pages import page

CODE_RE = re.compile(r'class="slip-code">([A-Z0-9-]+)<')


@pytest.fixture
def klass(app, users):
    """A class "Maths 7B" taught by staff (its owner)."""
    with app.app_context():
        room = rooms.create_class(name="Maths 7B", teacher=db.session.get(User, users["staff"].id))
        return detached(room)


def post_list(client, slug: str, text: str = "", *, file: tuple[bytes, str] | None = None, days=7, headers=None):
    form_page = client.get(f"/rooms/{slug}/class-list", headers=headers)
    assert form_page.status_code == 200, form_page.status_code
    data = {"students": text, "days": str(days), "csrf_token": csrf_token_from(form_page.get_data(as_text=True))}
    if file is not None:
        data["file"] = (io.BytesIO(file[0]), file[1])
    return client.post(f"/rooms/{slug}/class-list", data=data, content_type="multipart/form-data", headers=headers)


def redeem(client, username: str, code: str, password: str = "my-own-password-1", address: str = "127.0.0.1",
           headers=None):
    form = client.get("/auth/code", environ_base={"REMOTE_ADDR": address}, headers=headers).get_data(as_text=True)
    return client.post("/auth/code", environ_base={"REMOTE_ADDR": address}, headers=headers, data={
        "username": username, "code": code, "password": password, "confirm": password,
        "csrf_token": csrf_token_from(form),
    })


def counts(app, room_id: int) -> tuple[int, int, int]:
    with app.app_context():
        return (db.session.scalar(db.select(db.func.count(User.id))),
                db.session.scalar(db.select(db.func.count(Membership.id)).filter_by(room_id=room_id)),
                db.session.scalar(db.select(db.func.count(SignInCode.id))))


def class_of(size: int) -> list[str]:
    return [f"Student {number:02d}, student{number:02d}, s{number:02d}@school.example" for number in range(size)]


def test_a_list_with_two_bad_lines_is_refused_whole_with_both_lines_named(app, users, klass):
    lines = class_of(35)
    lines[9] = "Student 09, student03"  # line 10: the username of line 4 again
    lines[29] = "N" * 65  # line 30: a name too long
    before = counts(app, klass.id)
    response = post_list(logged_in(app, "staff"), klass.slug, "\n".join(lines))
    assert response.status_code == 400
    shown = page(response)
    assert shown.notices() == ["Nothing was imported: fix the lines below and try again."]
    problems = [item.text for item in shown.find("div", class_="line-problems").find_all("li")]
    assert problems == ["Line 10: the username student03 is already on line 4",
                        "Line 30: A display name is 1 to 64 characters."]
    assert shown.field("students").text.startswith("Student 00, student00")  # kept, to fix in place
    assert counts(app, klass.id) == before


def test_a_good_list_enrols_everyone_and_prints_one_slip_each(app, users, klass):
    text = "Name, Username, Email\n" + "\n".join(class_of(3)) + "\n\n李明\nAlice Again, alice\n"
    response = post_list(logged_in(app, "staff"), klass.slug, text)
    assert response.status_code == 200
    shown = page(response)
    slips = shown.find_all("li", class_="slip")
    assert [slip.find("p", class_="slip-name").text for slip in slips] == [
        "Student 00", "Student 01", "Student 02", "李明", "Alice"]
    codes = CODE_RE.findall(response.get_data(as_text=True))
    assert len(codes) == 4 and len(set(codes)) == 4  # alice has an account: no code
    assert all(re.fullmatch(r"[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}", code) for code in codes)
    assert "http://localhost/auth/code" in shown.text()
    with app.app_context():
        members = db.session.scalars(db.select(User.username).join(Membership).filter(Membership.room_id == klass.id))
        assert set(members) >= {"student00", "student01", "student02", "student", "alice"}
        assert db.session.scalar(db.select(User.email).filter_by(username="student01")) == "s01@school.example"
        # Stored hashed only: no code is in the database as written.
        hashes = set(db.session.scalars(db.select(SignInCode.code_hash)))
        assert not any(code.replace("-", "") in hashes or code in hashes for code in codes)
    csv_link = shown.find("a", download="maths-7b-sign-in-codes.csv")
    assert csv_link is not None and "student00" in csv_link.attrs["href"]


def test_each_code_works_once_and_leads_to_choosing_a_password(app, users, klass):
    response = post_list(logged_in(app, "staff"), klass.slug, "Wang Fang, wangfang")
    code = CODE_RE.findall(response.get_data(as_text=True))[0]
    student = app.test_client()
    assert student.post("/auth/login").status_code in (400, 401, 200)  # not logged in yet
    answer = redeem(student, "WangFang", code.lower().replace("-", " "))  # as typed on a phone
    assert answer.status_code == 302
    assert student.get(f"/rooms/{klass.slug}").status_code == 200  # enrolled and signed in
    again = redeem(app.test_client(), "wangfang", code, password="another-password-2")
    assert again.status_code == 401
    assert "Ask your teacher for a new one." in page(again).notices()[0]
    later = app.test_client()
    assert AuthActions(later).login("wangfang", "my-own-password-1").status_code == 302


def test_an_imported_account_cannot_log_in_before_its_code_is_used(app, users, klass):
    post_list(logged_in(app, "staff"), klass.slug, "Wang Fang, wangfang")
    assert AuthActions(app.test_client()).login("wangfang", "!sign-in-code").status_code == 401


def test_a_code_expires(app, users, klass):
    response = post_list(logged_in(app, "staff"), klass.slug, "Wang Fang, wangfang", days=1)
    code = CODE_RE.findall(response.get_data(as_text=True))[0]
    with app.app_context():
        row = db.session.scalar(db.select(SignInCode))
        row.expires_at -= timedelta(days=1, seconds=1)
        db.session.commit()
    assert redeem(app.test_client(), "wangfang", code).status_code == 401


def test_a_code_is_for_its_own_account_only(app, users, klass):
    response = post_list(logged_in(app, "staff"), klass.slug, "Wang Fang, wangfang\nLi Ming, liming")
    code_of_wang = CODE_RE.findall(response.get_data(as_text=True))[0]
    assert redeem(app.test_client(), "liming", code_of_wang).status_code == 401


def test_guessing_codes_is_slowed_like_passwords(app, users, klass):
    post_list(logged_in(app, "staff"), klass.slug, "Wang Fang, wangfang")
    statuses = [redeem(app.test_client(), "wangfang", f"AAAA-AAAA-AAA{n}").status_code for n in range(6)]
    assert statuses == [401] * 5 + [429]


def test_a_short_password_is_refused_and_the_code_still_works(app, users, klass):
    response = post_list(logged_in(app, "staff"), klass.slug, "Wang Fang, wangfang")
    code = CODE_RE.findall(response.get_data(as_text=True))[0]
    short = redeem(app.test_client(), "wangfang", code, password="short")
    assert short.status_code == 400
    assert redeem(app.test_client(), "wangfang", code).status_code == 302


def test_a_new_code_replaces_the_lost_one(app, users, klass):
    teacher = logged_in(app, "staff")
    first = CODE_RE.findall(post_list(teacher, klass.slug, "Wang Fang, wangfang").get_data(as_text=True))[0]
    list_page = teacher.get(f"/rooms/{klass.slug}/class-list")
    assert page(list_page).find("button", **{"aria-label": "New sign-in code for Wang Fang"}) is not None
    with app.app_context():
        student_id = db.session.scalar(db.select(User.id).filter_by(username="wangfang"))
    answer = teacher.post(f"/rooms/{klass.slug}/class-list/{student_id}/code",
                          data={"csrf_token": csrf_token_from(list_page.get_data(as_text=True))})
    assert answer.status_code == 200
    second = CODE_RE.findall(answer.get_data(as_text=True))[0]
    assert second != first
    assert redeem(app.test_client(), "wangfang", first).status_code == 401
    assert redeem(app.test_client(), "wangfang", second).status_code == 302


@pytest.mark.parametrize("who", ["alice", "bob"])
def test_a_member_cannot_see_or_import_a_class_list(app, users, klass, who):
    with app.app_context():
        rooms.join_by_code(user=db.session.get(User, users["alice"].id), code=klass.join_code)
    client = logged_in(app, who)
    assert client.get(f"/rooms/{klass.slug}/class-list").status_code == 403
    token = csrf_token_from(client.get("/").get_data(as_text=True))
    refused = client.post(f"/rooms/{klass.slug}/class-list", data={"students": "Eve, eve", "csrf_token": token})
    assert refused.status_code == 403
    with app.app_context():
        assert db.session.scalar(db.select(User.id).filter_by(username="eve")) is None


def test_a_teacher_gives_new_codes_only_to_students_of_their_class(app, users, klass):
    with app.app_context():
        staff = db.session.get(User, users["staff"].id)
        other_class = rooms.create_class(name="History 8A", teacher=db.session.get(User, users["admin"].id))
        rooms.join_by_code(user=db.session.get(User, users["bob"].id), code=other_class.join_code)
        for target, room in [("bob", klass), ("bob", other_class), ("staff", klass), ("admin", klass)]:
            with pytest.raises(ServiceError) as refused:
                class_lists.issue_sign_in_code(actor=staff, user=db.session.scalar(
                    db.select(User).filter_by(username=target)), room=db.session.get(type(klass), room.id))
            assert refused.value.code == "forbidden", (target, room.slug)
        # An admin may give anyone a code, with or without a class.
        code, _ = class_lists.issue_sign_in_code(actor=db.session.get(User, users["admin"].id),
                                                 user=db.session.get(User, users["staff"].id))
    assert redeem(app.test_client(), "staff", code).status_code == 302


def test_a_public_room_takes_no_class_list(app, users, public_room):
    with app.app_context():
        with pytest.raises(ServiceError) as refused:
            class_lists.import_class_list(actor=db.session.get(User, users["staff"].id),
                                          room=db.session.get(type(public_room), public_room.id), text="Eve")
    assert refused.value.code in ("forbidden", "invalid")


def test_a_chinese_spreadsheet_saved_as_gbk_is_read(app, users, klass):
    data = "姓名,用户名\n李明,liming\n王芳,wangfang\n".encode("gbk")
    response = post_list(logged_in(app, "staff"), klass.slug, file=(data, "7B.csv"))
    assert response.status_code == 200
    shown = page(response)
    assert [slip.find("p", class_="slip-name").text for slip in shown.find_all("li", class_="slip")] == ["李明", "王芳"]
    assert "The file was read as GBK" in shown.text()


def test_a_file_in_another_encoding_is_refused_naming_its_line(app, users, klass):
    data = "Name\nAnna\nJosé Núñez\n".encode("cp1252")
    response = post_list(logged_in(app, "staff"), klass.slug, file=(data, "list.csv"))
    assert response.status_code == 400
    assert "Line 3 of the file is not UTF-8 text. Save the list as “CSV UTF-8”" in page(response).text()


def test_problems_are_said_in_chinese(app, users, klass):
    response = post_list(logged_in(app, "staff"), klass.slug, "李明, liming\n王芳, liming",
                         headers={"Accept-Language": "zh-CN"})
    assert response.status_code == 400
    problems = [item.text for item in page(response).find("div", class_="line-problems").find_all("li")]
    assert problems == ["第2行：用户名 liming 已在第1行"]


def test_too_many_columns_and_bad_emails_are_named(app, users, klass):
    text = "A One, aone, a@x.example, extra\nB Two, btwo, not-an-email\n, nobody\n"
    response = post_list(logged_in(app, "staff"), klass.slug, text)
    problems = [item.text for item in page(response).find("div", class_="line-problems").find_all("li")]
    assert [problem.split(":")[0] for problem in problems] == ["Line 1", "Line 2", "Line 3"]


def test_usernames_are_made_from_names_when_missing(app, users, klass):
    with app.app_context():
        result = class_lists.import_class_list(actor=db.session.get(User, users["staff"].id),
                                               room=db.session.get(type(klass), klass.id),
                                               text="Zoë Brown\nZoe Brown\n李明\n")
        assert [s.user.username for s in result.students] == ["zoe.brown", "zoe.brown2", "student"]


def test_the_cli_imports_a_class_list(app, users, klass, tmp_path, runner):
    path = tmp_path / "7b.csv"
    path.write_text("name,username\nWang Fang,wangfang\nAlice,alice\n", encoding="utf-8-sig")
    result = runner.invoke(args=["class", "import", klass.slug, str(path)])
    assert result.exit_code == 0, result.output
    rows = [line.split(",") for line in result.stdout.strip().splitlines()]
    assert rows[0][:3] == ["Name", "Username", "Sign-in code"]
    assert rows[1][1] == "wangfang" and re.fullmatch(r"[A-Z2-9-]{14}", rows[1][2])
    assert rows[2][1] == "alice" and rows[2][2] == ""
    assert redeem(app.test_client(), "wangfang", rows[1][2]).status_code == 302


def test_the_cli_refuses_a_bad_list_line_by_line(app, users, klass, tmp_path, runner):
    path = tmp_path / "bad.csv"
    path.write_text("Wang Fang,wangfang\nLi Ming,wangfang\n", encoding="utf-8")
    result = runner.invoke(args=["class", "import", klass.slug, str(path)])
    assert result.exit_code != 0
    assert "line 2: the username wangfang is already on line 1" in result.output
    with app.app_context():
        assert db.session.scalar(db.select(User.id).filter_by(username="wangfang")) is None


def test_the_csv_never_carries_a_formula_and_excel_reads_its_chinese(app):
    with app.test_request_context():
        text = class_lists.codes_as_csv([("=HYPERLINK(\"x\")", "eve", "ABCD-EFGH-JKMN"), ("李明", "liming", None)],
                                        sign_in_url="https://school.example/auth/code")
    assert text.startswith("\ufeff")
    lines = text.lstrip("\ufeff").splitlines()
    assert lines[1].startswith('"\'=HYPERLINK')
    assert lines[2] == "李明,liming,,https://school.example/auth/code"


def test_an_admin_gives_any_account_a_code_and_a_teacher_cannot_there(app, users):
    admin = logged_in(app, "admin")
    listing = admin.get("/admin/users")
    assert page(listing).find("button", **{"aria-label": "New sign-in code for staff"}) is not None
    token = csrf_token_from(listing.get_data(as_text=True))
    answer = admin.post(f"/admin/users/{users['staff'].id}/sign-in-code", data={"csrf_token": token})
    assert answer.status_code == 200
    code = CODE_RE.findall(answer.get_data(as_text=True))[0]
    assert redeem(app.test_client(), "staff", code, password="staff-new-password").status_code == 302
    teacher = logged_in(app, "bob")
    refused = teacher.post(f"/admin/users/{users['alice'].id}/sign-in-code",
                           data={"csrf_token": csrf_token_from(teacher.get("/").get_data(as_text=True))})
    assert refused.status_code == 403
