{#- Fails for each value that is an empty or whitespace-only string: staging
    turns those into null. -#}
{% test not_empty_string(model, column_name) %}

select {{ column_name }}
from {{ model }}
where trim({{ column_name }}) = ''

{% endtest %}
