{#- Fails for each value with upper-case letters or surrounding whitespace
    (normalised emails, status codes). -#}
{% test is_lowercase_trimmed(model, column_name) %}

select {{ column_name }}
from {{ model }}
where {{ column_name }} <> lower(trim({{ column_name }}))

{% endtest %}
