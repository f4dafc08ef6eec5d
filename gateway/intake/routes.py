"""HTTP routes of intake: `POST /api/leads` and `GET /intake/demo` (a form page for a site that
only has HTML). Lead emails and missed calls have their own modules."""

from __future__ import annotations

from html import escape

from aiohttp import web

from gateway.intake import forms
from gateway.intake.service import Intake

INTAKE = web.AppKey("intake", Intake)


async def post_lead(request: web.Request) -> web.Response:
    """`POST /api/leads`: 201 for a new delivery, 200 for a repeat; 4xx names the field."""
    intake = request.app[INTAKE]
    default_key = intake.s.settings.intake_token.get_secret_value()
    try:
        item = await forms.parse(request, intake.config, default_key)
    except forms.IntakeError as exc:
        forms.count(f"rejected_{exc.status}")
        return exc.response()
    result = await intake.take(item)
    forms.count("duplicate" if result.duplicate else "accepted")
    status = "duplicate" if result.duplicate else "accepted"
    return web.json_response(
        {"lead_id": result.lead_id, "status": status, "first_touch": result.touch,
         "new_lead": result.lead_created},
        status=200 if result.duplicate else 201,
    )


DEMO = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>Contact an agent</title>
<style>body{{font:16px system-ui,sans-serif;max-width:32rem;margin:2rem auto;padding:0 1rem}}
label{{display:block;margin:.8rem 0 .2rem}}input,textarea{{width:100%;padding:.5rem;
font:inherit}}button{{margin-top:1rem;padding:.6rem 1.2rem;font:inherit}}
small{{color:#555}}</style></head><body>
<h1>Ask about this home</h1>
<form id="lead">
<label>Name <input name="name" autocomplete="name" required></label>
<label>Mobile phone <input name="phone" type="tel" autocomplete="tel" required></label>
<label>Email <input name="email" type="email" autocomplete="email"></label>
<label>Message <textarea name="message" rows="3">Is it still available?</textarea></label>
<label><input type="checkbox" name="consent" required style="width:auto">
<small id="consent-text">{consent}</small></label>
<button>Send</button><p id="result" role="status"></p></form>
<p><small>Paste into your site: the script below posts to <code>{endpoint}</code> with your
source key. Keep the key server-side where you can (a form handler, Zapier); a key in a
public page can be copied.</small></p>
<script>
document.getElementById("lead").addEventListener("submit", async (e) => {{
  e.preventDefault();
  const f = new FormData(e.target);
  const body = {{source: "website", name: f.get("name"), phone: f.get("phone"),
    email: f.get("email") || null, message: f.get("message"), page_url: location.href,
    language: (navigator.language || "en").slice(0, 2) === "es" ? "es" : null,
    consent: {{text: document.getElementById("consent-text").textContent,
               given_at: new Date().toISOString()}}}};
  const r = await fetch("{endpoint}", {{method: "POST",
    headers: {{"Content-Type": "application/json", "Authorization": "Bearer " + KEY}},
    body: JSON.stringify(body)}});
  document.getElementById("result").textContent =
    r.ok ? "Thanks! We'll text you in a moment." : "Sorry, that did not work (" + r.status + ").";
}});
const KEY = new URLSearchParams(location.search).get("key") || "YOUR-SOURCE-KEY";
</script></body></html>"""
CONSENT_TEXT = ("By sending this form you agree that {brokerage} may text you about your "
                "inquiry at the number above, including by automated means. Msg & data rates "
                "may apply. Reply STOP to opt out.")


async def demo(request: web.Request) -> web.Response:
    """`GET /intake/demo`: a ready-to-paste contact form that posts to `/api/leads`."""
    settings = request.app[INTAKE].s.settings
    consent = CONSENT_TEXT.format(brokerage=settings.brokerage)
    html = DEMO.format(consent=escape(consent), endpoint=f"{settings.public_url}/api/leads")
    return web.Response(text=html, content_type="text/html")


def add_intake_routes(app: web.Application) -> None:
    """Register the form routes (the email and voice routes are added by their modules)."""
    app.router.add_post("/api/leads", post_lead)
    app.router.add_get("/intake/demo", demo)
