"""Posting a Wagtail admin edit form from a test as the browser would."""

from bs4 import BeautifulSoup


def edit_form_data(client, url):
    """Every field of the admin edit form at `url` as the browser would post it."""
    soup = BeautifulSoup(client.get(url).content, "html.parser")
    form = soup.find("form", id="w-editor-form")
    data = {}
    for field in form.find_all(["input", "select", "textarea"]):
        name = field.get("name")
        if not name or field.get("type") in ("submit", "button", "file"):
            continue
        if field.get("type") in ("checkbox", "radio"):
            if field.has_attr("checked"):
                data.setdefault(name, []).append(field.get("value", "on"))
            continue
        if field.name == "select":
            chosen = [
                o.get("value", "") for o in field.find_all("option") if o.has_attr("selected")
            ]
            if chosen:
                data[name] = chosen if field.has_attr("multiple") else chosen[0]
            continue
        data[name] = field.text if field.name == "textarea" else field.get("value", "")
    return data
