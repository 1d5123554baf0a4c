import logging


def one_line(record):
    """Log `record` as one warning line, without its traceback (a logging filter)."""
    record.levelno, record.levelname = logging.WARNING, "WARNING"
    record.exc_info = record.exc_text = None
    return True
