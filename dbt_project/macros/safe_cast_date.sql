{#- Cast text shaped 'yyyy-m-d' to a date; null instead of an error when the
    text is not such a date or names a day that does not exist (2023-02-29). -#}
{% macro safe_cast_date(text_expression) -%}
    {{ return(adapter.dispatch('safe_cast_date', 'cdp')(text_expression)) }}
{%- endmacro %}

{#- Portable version: checks shape, month and day-of-month (leap years
    included) before casting, so the cast cannot fail. -#}
{% macro default__safe_cast_date(text_expression) -%}
    {%- set year_part = 'cast(' ~ dbt.split_part(text_expression, "'-'", 1) ~ ' as integer)' -%}
    {%- set month_part = 'cast(' ~ dbt.split_part(text_expression, "'-'", 2) ~ ' as integer)' -%}
    {%- set day_part = 'cast(' ~ dbt.split_part(text_expression, "'-'", 3) ~ ' as integer)' -%}
    case
        when
            {{ cdp.matches_pattern(text_expression, '^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}$') }}
            and {{ month_part }} between 1 and 12
            and {{ day_part }} between 1 and (
                case
                    when {{ month_part }} in (4, 6, 9, 11) then 30
                    when {{ month_part }} <> 2 then 31
                    when
                        mod({{ year_part }}, 400) = 0
                        or (
                            mod({{ year_part }}, 4) = 0
                            and mod({{ year_part }}, 100) <> 0
                        )
                        then 29
                    else 28
                end
            )
            then cast({{ text_expression }} as date)
    end
{%- endmacro %}

{% macro duckdb__safe_cast_date(text_expression) -%}
    try_cast({{ text_expression }} as date)
{%- endmacro %}

{#- try_cast needs Spark 3.2+; it also returns null for impossible days. -#}
{% macro spark__safe_cast_date(text_expression) -%}
    try_cast({{ text_expression }} as date)
{%- endmacro %}
