{#- Masks a personal value when the var cdp__mask_pii is true (for
    non-production targets); returns the expression unchanged otherwise, so
    production SQL is exactly what it would be without the macro.
    kind: email  -> 'user-<12 hex of md5>@masked.invalid' (still a valid,
                    distinct, undeliverable address)
          phone  -> '+99' followed by 10 digits from the md5 (valid E.164
                    shape, no real country code 99)
          name   -> the first letter and a dot ('Ann' -> 'A.')
          date   -> 1 January of the same year
          text   -> 'masked'
          identifier -> 'masked-<12 hex of md5>' (an id declared pii: still
                    distinct, so identifier counts hold)
    The same input always masks to the same output, so joins and distinct
    counts on masked columns still work. -#}
{% macro mask_pii(expression, kind) -%}
    {%- if var('cdp__mask_pii', false) | string | lower in ['true', '1', 'yes'] -%}
        {{ return(adapter.dispatch('mask_pii', 'cdp')(expression, kind)) }}
    {%- else -%}
        {{ return(expression) }}
    {%- endif -%}
{%- endmacro %}

{% macro default__mask_pii(expression, kind) -%}
    {%- set digest = dbt.hash('cast(' ~ expression ~ ' as ' ~ dbt.type_string() ~ ')') -%}
    case
        when {{ expression }} is null then null
        {%- if kind == 'email' %}
            else 'user-' || substr({{ digest }}, 1, 12) || '@masked.invalid'
        {%- elif kind == 'phone' %}
            else '+99' || translate(substr({{ digest }}, 1, 10), 'abcdef', '012345')
        {%- elif kind == 'name' %}
            else substr({{ expression }}, 1, 1) || '.'
        {%- elif kind == 'date' %}
            else cast({{ dbt.date_trunc('year', expression) }} as date)
        {%- elif kind == 'text' %}
            else 'masked'
        {%- elif kind == 'identifier' %}
            else 'masked-' || substr({{ digest }}, 1, 12)
        {%- else %}
            {{ exceptions.raise_compiler_error(
                "mask_pii: unknown kind '" ~ kind
                ~ "' (email, phone, name, date, text or identifier)"
            ) }}
        {%- endif %}
    end
{%- endmacro %}
