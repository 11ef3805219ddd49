{#- Fails for each non-null value that is not an E.164 phone number:
    '+', a non-zero first digit, 8 to 15 digits in all. -#}
{% test is_e164(model, column_name) %}

select {{ column_name }}
from {{ model }}
where
    {{ column_name }} is not null
    and not {{ cdp.matches_pattern(column_name, '^[+][1-9][0-9]{7,14}$') }}

{% endtest %}
