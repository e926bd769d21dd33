"""A bare Flask route, served the same way as Hearth, as the throughput baseline."""

from flask import Flask

app = Flask(__name__)


@app.route("/")
def hello():
    return "ok"
