"""Distances on the ellipsoid (geopy's geodesic, WGS-84)."""

from geopy.distance import geodesic


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    return geodesic((lat1, lon1), (lat2, lon2)).meters
