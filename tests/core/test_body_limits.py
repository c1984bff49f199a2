"""Request bodies before authentication (issue 16, finding 7): sizes are judged from Content-Length before
anything reads the body, and uploads are refused unread unless the person may upload there."""

import io

import pytest
from django.core.files import uploadhandler
from django.test import Client
from django.urls import reverse

MB = 1024 * 1024
BOUNDARY = "b0undary"


class Body(io.RawIOBase):
    """A multipart body of `size` bytes made up while it is read, counting what the server reads of it."""

    def __init__(self, size: int):
        self.size = size
        head = (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.csv\"\r\n"
                "Content-Type: text/csv\r\n\r\n").encode()
        self.head, self.tail = head, f"\r\n--{BOUNDARY}--\r\n".encode()
        self.read_bytes = 0

    def _byte(self, i: int) -> bytes:
        if i < len(self.head):
            return self.head[i:i + 1]
        if i >= self.size - len(self.tail):
            return self.tail[i - (self.size - len(self.tail)):][:1]
        return b"a"

    def read(self, n=-1):
        n = self.size - self.read_bytes if n is None or n < 0 else min(n, self.size - self.read_bytes)
        start = self.read_bytes
        self.read_bytes += n
        middle_from, middle_to = len(self.head), self.size - len(self.tail)
        if start >= middle_from and start + n <= middle_to:
            return b"a" * n
        return b"".join(self._byte(i) for i in range(start, start + n))

    def readline(self, size=-1):  # Django's LimitedStream may ask
        return self.read(size if size and size > 0 else 64 * 1024)


@pytest.fixture
def strict_client():
    """A client that checks CSRF as production does: CsrfViewMiddleware then reads request.POST (the body)
    before any view or log-in check."""

    def make(user=None):
        client = Client(enforce_csrf_checks=True)
        client.cookies["csrftoken"] = "a" * 32  # anyone can hold a CSRF cookie: so CSRF looks for the form's token
        if user is not None:
            client.force_login(user)
        return client

    return make


def post_big(client, path, size):
    body = Body(size)
    response = client.post(path, **{"wsgi.input": body, "CONTENT_LENGTH": str(size),
                                    "CONTENT_TYPE": f"multipart/form-data; boundary={BOUNDARY}"})
    return response, body


@pytest.fixture
def temp_files(monkeypatch):
    """Every upload that Django starts writing to a temporary file."""
    started = []
    real = uploadhandler.TemporaryFileUploadHandler.new_file

    def new_file(self, *args, **kwargs):
        started.append(args)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(uploadhandler.TemporaryFileUploadHandler, "new_file", new_file)
    return started


@pytest.mark.django_db
def test_anonymous_60_mb_post_to_login_is_refused_unread(strict_client, temp_files):
    response, body = post_big(strict_client(), reverse("login"), 60 * MB)
    assert response.status_code == 413
    assert "at most 64 KB" in response.content.decode()
    assert body.read_bytes == 0 and temp_files == []


@pytest.mark.django_db
def test_a_normal_log_in_still_works(client, make_user):
    make_user("bob", password="right-Password-1")
    response = client.post(reverse("login"), {"username": "bob", "password": "right-Password-1"})
    assert response.status_code == 302


def upload_url(connection):
    return reverse("datasets:resource_new_upload", kwargs={"conn": connection.slug, "uid": "da_1"})


@pytest.mark.django_db
def test_anonymous_upload_is_sent_to_log_in_unread(strict_client, connection, temp_files):
    response, body = post_big(strict_client(), upload_url(connection), 60 * MB)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert body.read_bytes == 0 and temp_files == []


@pytest.mark.django_db
@pytest.mark.parametrize("who, status", [("outsider", 404), ("viewer", 403)])
def test_upload_by_someone_not_allowed_is_refused_unread(strict_client, cast, connection, temp_files, who, status):
    for path in (upload_url(connection),
                 reverse("datasets:attachment_upload", kwargs={"conn": connection.slug, "uid": "da_1"}),
                 reverse("people:invite", kwargs={"conn": connection.slug})):
        response, body = post_big(strict_client(cast[who]), path, 60 * MB)
        assert response.status_code == status, path
        assert body.read_bytes == 0
    assert temp_files == []


@pytest.mark.django_db
def test_upload_over_the_limit_is_refused_unread_even_for_an_operator(strict_client, cast, connection, settings,
                                                                       temp_files):
    settings.PORTALADMIN_MAX_UPLOAD_BYTES = 5 * MB
    response, body = post_big(strict_client(cast["operator"]), upload_url(connection),
                              5 * MB + settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)
    assert response.status_code == 413 and "at most 5 MB" in response.content.decode()
    assert body.read_bytes == 0 and temp_files == []


@pytest.mark.django_db
def test_logged_in_post_over_the_form_limit_is_refused_unread(strict_client, cast, connection, settings):
    path = reverse("portals:edit", kwargs={"conn": connection.slug})
    response, body = post_big(strict_client(cast["admin"]), path, settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)
    assert response.status_code == 413 and body.read_bytes == 0


@pytest.mark.django_db
def test_a_file_sent_to_a_route_without_uploads_is_never_stored(client_as, cast, connection, temp_files):
    # 3 MB: over FILE_UPLOAD_MAX_MEMORY_SIZE (a temporary file), under the form limit
    path = reverse("portals:edit", kwargs={"conn": connection.slug})
    response, body = post_big(client_as(cast["admin"]), path, 3 * MB)
    assert response.status_code == 200  # the form, with its errors
    assert body.read_bytes == 3 * MB and temp_files == []


@pytest.mark.django_db
def test_refusals_keep_the_security_headers_and_htmx_redirects(strict_client, connection):
    response, _ = post_big(strict_client(), reverse("login"), 60 * MB)
    assert "Content-Security-Policy" in response and response["X-Frame-Options"] == "DENY"
    client = strict_client()
    response = client.post(upload_url(connection), headers={"HX-Request": "true"},
                           **{"wsgi.input": Body(60 * MB), "CONTENT_LENGTH": str(60 * MB),
                              "CONTENT_TYPE": f"multipart/form-data; boundary={BOUNDARY}"})
    assert response.status_code == 204 and response["HX-Redirect"].startswith(reverse("login"))


def test_a_nul_character_in_any_value_is_a_clear_400_not_a_database_error(client, django_user_model):
    # PostgreSQL refuses NUL in text columns: before this, a forged value reached an audit row and answered 500
    user = django_user_model.objects.create_superuser("nul", "nul@example.org", "pw-Secret-123")
    client.force_login(user)
    answer = client.post("/fleet/harvesters/refresh/", {"connection": "x\x00y"})
    assert answer.status_code == 400 and b"NUL character" in answer.content
    assert client.get("/c/lyon/datasets/", {"q": "a\x00"}).status_code == 400
