"""The review web UI as a FastAPI `APIRouter` (server-rendered Jinja2, one small script, no CDN).

``router`` is module-level; its handlers find their state per request in ``request.app.state.review`` (a
`ReviewContext`). Mount it with ``app.state.review = ReviewContext(corpus, storage); app.include_router(router)``,
or use ``create_review_router(ctx)``, a copy of the routes bound to ``ctx``;
`humortune.feedback.app.create_review_app` builds a whole app. The handlers live by URL group in
`humortune.feedback.routes` (queue, clip, ab, add, promotions) and `humortune.feedback.media_routes`.

```
GET  /review/                          queue, one row per clip (filters: niche, model, reason, base=1; paged)
GET  /review/clip/{analysis_id}        clip page: video, model output, owner's previous correction, editor
POST /review/clip/{analysis_id}/save   save the edited narrative + record (+ niche, verdict); 409 if stale
POST /review/clip/{analysis_id}/accept accept the model's output as-is
POST /review/clip/{analysis_id}/skip   skip the clip
POST /review/clip/{analysis_id}/niche  tag the clip's corrections with a niche
POST /review/undo                      undo the newest review still in effect
GET  /review/ab                        blind A/B page;  POST /review/ab  record the choice
GET  /review/promotions                proposed promotions; POST …/{id}/confirm | …/{id}/reject
GET  /review/reports/{evaluation_id}   the evaluator's HTML report behind a proposal
GET  /review/add                       add clips (links or stored clips); POST starts a job; ?job= its status
GET  /review/video/{sha256}            video bytes (Range requests: 206 + Content-Range)
GET  /review/poster/{sha256}           the clip's poster frame (made on first request if missing)
GET  /review/static/{name}             app.js, app.css
```

Every route requires the review token (`humortune.feedback.security`); model output is autoescaped.
Save and accept carry the ``revision`` of the clip's correction the page showed: a save from a stale tab
writes nothing and answers 409 with both versions side by side, for the owner to choose.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.routing import APIRoute

# Importing the group modules registers their handlers on the shared router.
from humortune.feedback import media_routes as _media_routes  # noqa: F401
from humortune.feedback.routes import ab as _ab  # noqa: F401
from humortune.feedback.routes import add as _add  # noqa: F401
from humortune.feedback.routes import clip as _clip  # noqa: F401
from humortune.feedback.routes import promotions as _promotions  # noqa: F401
from humortune.feedback.routes import queue as _queue  # noqa: F401
from humortune.feedback.routes._shared import PREFIX, ReviewContext, ReviewRoute, review, router

__all__ = ["PREFIX", "ReviewContext", "create_review_router", "review", "router"]


def create_review_router(ctx: ReviewContext) -> APIRouter:
    """A copy of `router` bound to ``ctx`` (for an app whose ``state.review`` is not set, or holds another)."""
    bound_class = type("BoundReviewRoute", (ReviewRoute,), {"bound": ctx})
    bound = APIRouter(include_in_schema=False)
    for route in router.routes:
        assert isinstance(route, APIRoute)
        bound.add_api_route(
            route.path,
            route.endpoint,
            methods=sorted(route.methods or ()),
            dependencies=route.dependencies,
            response_class=route.response_class,
            name=route.name,
            include_in_schema=False,
            route_class_override=bound_class,
        )
    return bound
