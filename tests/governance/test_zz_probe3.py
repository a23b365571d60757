import pytest
from django.urls import reverse
pytestmark = pytest.mark.django_db
def test_probe(client, lead):
    client.force_login(lead)
    r = client.post(reverse("governance:policy-new"), {"name": "Acme", "slug": "not a slug!"})
    html = r.content.decode()
    i = html.find('name="slug"'); print(html[i-300:i+400])
