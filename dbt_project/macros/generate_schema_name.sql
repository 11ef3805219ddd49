{#-
    Use a model's custom schema as the schema name (staging, intermediate,
    marts, reference) instead of dbt's default <target>_<custom> prefixing, so
    that every target has the same, readable layout.
-#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
