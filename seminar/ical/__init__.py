"""ical"""
