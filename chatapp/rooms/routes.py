"""Views of the rooms blueprint."""
from flask import flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from ..services import messages as message_service
from ..services import rooms as room_service
from ..services.errors import ServiceError
from ..services.presence import presence
from . import bp
from .forms import CreateRoomForm, JoinCodeForm


@bp.get("/")
@login_required
def index():
    """List the rooms this user may enter, with forms to create and join one."""
    rooms = room_service.rooms_for_user(user=current_user)
    return render_template(
        "rooms/index.html", rooms=rooms, create_form=CreateRoomForm(prefix="create"), join_form=JoinCodeForm(prefix="join")
    )


@bp.post("/rooms/new")
@login_required
def create():
    """Create a room and go to it."""
    form = CreateRoomForm(prefix="create")
    if form.validate_on_submit():
        try:
            room = room_service.create_room(name=form.name.data, private=form.private.data, creator=current_user)
        except ServiceError as error:
            flash(error.message, "error")
        else:
            if room.is_private:
                flash(f"Room created. Its join code is {room.join_code}.", "success")
            return redirect(url_for("rooms.room", slug=room.slug))
    else:
        flash("Give the room a name of at most 80 characters.", "error")
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
        flash("Type the join code you were given.", "error")
    return redirect(url_for("rooms.index"))


@bp.get("/rooms/<slug>")
@login_required
def room(slug: str):
    """The room page, with its latest messages in the HTML before any script runs."""
    room = room_service.get_room(slug)
    membership = room_service.enter_room(user=current_user, room=room)
    page = message_service.list_messages(user=current_user, room=room)
    members = room_service.list_members(room=room)
    online = set(presence.online(room=room.slug))
    return render_template(
        "rooms/room.html",
        room=room,
        membership=membership,
        messages=page.messages,
        more=page.more,
        members=members,
        online=online,
    )
