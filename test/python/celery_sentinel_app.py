"""celery_app over Redis Sentinel, configured the Celery way: the URL lists the Sentinels
(`sentinel://h1:p1;sentinel://h2:p2`), the master name goes in the transport options of the broker
AND of the result backend (TQ_MASTER_NAME). Load it with `-A celery_sentinel_app`.
"""
import os

from celery_app import app

_options = {"master_name": os.environ["TQ_MASTER_NAME"]}
app.conf.update(
    broker_transport_options=_options,
    result_backend_transport_options=_options,
)
