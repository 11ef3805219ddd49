{#- Text value at a dotted `path` ('page.url') inside a JSON column;
    null when the key is missing. -#}
{% macro json_extract_text(json_column, path) -%}
    {{ return(adapter.dispatch('json_extract_text', 'cdp')(json_column, path)) }}
{%- endmacro %}

{#- SQL:2016 json_value (Trino, BigQuery, Oracle, PostgreSQL 17+). -#}
{% macro default__json_extract_text(json_column, path) -%}
    json_value({{ json_column }}, '$.{{ path }}')
{%- endmacro %}

{% macro duckdb__json_extract_text(json_column, path) -%}
    json_extract_string({{ json_column }}, '$.{{ path }}')
{%- endmacro %}

{% macro postgres__json_extract_text(json_column, path) -%}
    (cast({{ json_column }} as jsonb) #>> '{ {{- path.split('.') | join(',') -}} }')
{%- endmacro %}

{#- Spark keeps JSON as strings. -#}
{% macro spark__json_extract_text(json_column, path) -%}
    get_json_object({{ json_column }}, '$.{{ path }}')
{%- endmacro %}
