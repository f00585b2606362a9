"""A teacher imports a class list and prints the slips; a student signs in with a code on a phone (Chromium, axe)."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from harness.browser import DESKTOP, PHONE

from ..conftest import PASSWORD
from .test_accessibility import assert_accessible

pytestmark = pytest.mark.browser

# No `locale`: in Chromium it would override the header.
LANGUAGES = {
    "en": {"extra_http_headers": {"Accept-Language": "en"}},
    "zh": {"extra_http_headers": {"Accept-Language": "zh-CN,zh;q=0.9"}},
}
WORDS = {
    "en": {"students": "Students, one a line: name, username (optional), e-mail (optional)",
           "import": "Import and make sign-in slips", "print": "Print slips", "code": "Sign-in code",
           "username": "Username", "password": "Choose a password", "repeat": "Repeat password",
           "redeem": "Sign in and save my password", "fix": "2 lines to fix", "login_password": "Password",
           "log_in": "Log in"},
    "zh": {"students": "学生名单，每行一人：姓名、用户名（可选）、电子邮件（可选）",
           "import": "导入并生成登录条", "print": "打印登录条", "code": "登录码",
           "username": "用户名", "password": "设置密码", "repeat": "确认密码",
           "redeem": "登录并保存密码", "fix": "有 2 行需要改正", "login_password": "密码", "log_in": "登录"},
}


@pytest.fixture
def class_server(live_server):
    """A teacher (staff) and their private class "maths-7b"."""
    live_server.add_user("teacher", role="staff", display_name="Ms Chen")
    live_server.add_room("maths-7b", name="Maths 7B", private=True, owner="teacher")
    live_server.start()
    return live_server


@pytest.mark.parametrize("language", ["en", "zh"])
def test_a_teacher_imports_a_class_and_a_student_signs_in_with_the_slip_on_a_phone(class_server, contexts, language):
    words = WORDS[language]
    teacher = contexts.new(viewport=DESKTOP, **LANGUAGES[language])
    teacher.goto(class_server.url + "/auth/login?next=/rooms/maths-7b")
    teacher.get_by_label(words["username"]).fill("teacher")
    teacher.get_by_label(words["login_password"]).fill(PASSWORD)
    teacher.get_by_role("button", name=words["log_in"]).click()
    teacher.wait_for_url(class_server.url + "/rooms/maths-7b")
    teacher.locator(".class-list-link a").click()
    box = teacher.get_by_label(words["students"])
    # A list with two mistakes first: nothing is stored and both lines are named, the text kept.
    box.fill("Wang Fang, wangfang\n李明, liming\nLi Ming Again, liming\n" + "N" * 70)
    teacher.get_by_role("button", name=words["import"]).click()
    problems = teacher.get_by_role("alert").filter(has_text=words["fix"])
    expect(problems.locator("li")).to_have_count(2)
    assert_accessible(teacher, f"the class list with problems ({language})")
    box = teacher.get_by_label(words["students"])
    expect(box).to_have_value("Wang Fang, wangfang\n李明, liming\nLi Ming Again, liming\n" + "N" * 70)
    box.fill("Wang Fang, wangfang\n李明, liming\n")
    teacher.get_by_role("button", name=words["import"]).click()
    expect(teacher.get_by_role("button", name=words["print"])).to_be_visible()
    slips = teacher.locator("li.slip")
    expect(slips).to_have_count(2)
    expect(slips.nth(1).locator(".slip-name")).to_have_text("李明")
    assert_accessible(teacher, f"the sign-in slips ({language})")
    code = slips.nth(1).locator(".slip-code").inner_text()
    sign_in_at = slips.nth(1).locator(".slip-url").inner_text()
    # The slip prints without the page's chrome: only the slips are left.
    teacher.emulate_media(media="print")
    expect(teacher.get_by_role("button", name=words["print"])).to_be_hidden()
    expect(slips.first).to_be_visible()
    teacher.emulate_media(media="screen")

    student = contexts.new(viewport=PHONE, **LANGUAGES[language])
    student.goto(sign_in_at)
    assert_accessible(student, f"the first sign-in page on a phone ({language})")
    student.get_by_label(words["username"]).fill("liming")
    student.get_by_label(words["code"]).fill(code.lower())
    student.get_by_label(words["password"]).fill("li-ming-2026")
    student.get_by_label(words["repeat"]).fill("li-ming-2026")
    student.get_by_role("button", name=words["redeem"]).click()
    student.wait_for_url(class_server.url + "/")
    expect(student.get_by_role("link", name="Maths 7B")).to_be_visible()
    # The page never scrolls sideways on a phone.
    assert student.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
