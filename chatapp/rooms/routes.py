"""Views of the rooms blueprint."""
from datetime import timedelta

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..realtime.presence import presence
from ..services import classroom as classroom_service
from ..services import direct as direct_service
from ..services import messages as message_service
from ..services import rooms as room_service
from ..services import unread as unread_service
from ..services.errors import ServiceError
from .blueprint import bp
from .forms import CreateRoomForm, JoinCodeForm, JoinConfirmForm


@bp.get("/")
@login_required
def index():
    """List the rooms this user may enter, with forms to create and join one."""
    rooms = room_service.rooms_for_user(user=current_user)
    return render_template(
        "rooms/index.html",
        rooms=rooms,
        archived_rooms=room_service.archived_rooms_for_user(user=current_user),
        create_form=CreateRoomForm(prefix="create"),
        join_form=JoinCodeForm(prefix="join"),
        direct_rooms=direct_service.direct_rooms_for_user(user=current_user),
        unread=unread_service.unread_counts(user=current_user),
    )


@bp.post("/rooms/new")
@login_required
def create():
    """Create a room and go to it."""
    form = CreateRoomForm(prefix="create")
    if form.validate_on_submit():
        try:
            if form.is_class.data:
                minutes = form.code_valid_for.data
                valid_for = timedelta(minutes=int(minutes)) if minutes in ("60", "1440", "10080", "43200") else None
                room = room_service.create_class(name=form.name.data, teacher=current_user, code_valid_for=valid_for)
            else:
                room = room_service.create_room(name=form.name.data, private=form.private.data, creator=current_user)
        except ServiceError as error:
            flash(error.message, "error")
        else:
            if room.is_class:
                flash(_("Class created. Its join code is %(code)s: students type it, or open %(link)s",
                        code=room.join_code, link=url_for("rooms.join_link", code=room.join_code, _external=True)),
                      "success")
            elif room.is_private:
                flash(_("Room created. Its join code is %(code)s.", code=room.join_code), "success")
            return redirect(url_for("rooms.room", slug=room.slug))
    else:
        flash(_("Give the room a name of 1 to 80 characters."), "error")
    return redirect(url_for("rooms.index"))


@bp.post("/join")
@login_required
def join_code():
    """Join a private room by its code."""
    form = JoinCodeForm(prefix="join")
    if form.validate_on_submit():
        try:
            room = room_service.join_by_code(user=current_user, code=form.code.data)
        except ServiceError as error:
            flash(error.message, "error")
        else:
            return redirect(url_for("rooms.room", slug=room.slug))
    else:
        flash(_("Type the join code you were given."), "error")
    return redirect(url_for("rooms.index"))


@bp.route("/join/<code>", methods=["GET", "POST"])
@login_required
def join_link(code: str):
    """A join link: show whose room it is, then join it with a (CSRF-protected) POST."""
    form = JoinConfirmForm()
    if form.validate_on_submit():
        try:
            room = room_service.join_by_code(user=current_user, code=code)
        except ServiceError as error:
            flash(error.message, "error")
            return redirect(url_for("rooms.index"))
        return redirect(url_for("rooms.room", slug=room.slug))
    try:
        room = room_service.room_for_code(user=current_user, code=code)
    except ServiceError as error:
        return render_template(
            "rooms/join.html", error=error.message, join_form=JoinCodeForm(prefix="join")
        ), error.http_status
    if room_service.get_membership(user=current_user, room=room) is not None:
        return redirect(url_for("rooms.room", slug=room.slug))
    return render_template("rooms/join.html", room=room, form=form)


@bp.get("/rooms/<slug>")
@login_required
def room(slug: str):
    """The room page, with its latest messages in the HTML before any script runs."""
    room = room_service.get_room(slug)
    membership = room_service.enter_room(user=current_user, room=room)
    if room.is_support:  # a support conversation is worked in the agent console, notes and all
        return redirect(url_for("support.console", c=room.slug))
    # ?around=ID (a search result): the page centred on that message, which is highlighted.
    around = request.args.get("around", type=int)
    # Read before the page: a change made while it renders comes again at the page's first join.
    revision = message_service.current_revision(room=room)
    page = message_service.list_messages(user=current_user, room=room, around=around)
    members = room_service.list_members(room=room)
    online = set(presence.online(room=room.slug))
    classroom = classroom_service.room_view(user=current_user, room=room, membership=membership)
    people = direct_service.people_in(room=room)
    return render_template(
        "rooms/room.html",
        room=room,
        membership=membership,
        classroom=classroom,
        messages=page.messages,
        more=page.more,
        revision=revision,
        members=members,
        online=online,
        around=around,
        partner=direct_service.partner_of(people=people, user=current_user),
        direct_people=people,
        write_refusal=room_service.write_refusal(user=current_user, room=room),
    )
