FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 DJANGO_SETTINGS_MODULE=verisyntra.settings
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
# The admin's and the API docs' assets, into STATIC_ROOT (/app/staticfiles); gunicorn serves them
# itself through WhiteNoise (verisyntra/settings.py), so no proxy rule is needed in front.
RUN python manage.py collectstatic --noinput
EXPOSE 8000
CMD ["gunicorn", "verisyntra.wsgi:application", "-c", "gunicorn.conf.py", "--bind", "0.0.0.0:8000"]
