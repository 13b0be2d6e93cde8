"""The dashboard's pages, one router per audience: sessions, operators (collections, faces), reviewers, records."""

from regard.dashboard.views import collections, faces, governance, records, reviews, session

ROUTERS = (session.router, collections.router, faces.router, reviews.router, governance.router, records.router)
