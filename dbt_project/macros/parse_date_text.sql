{#- Date typed as free text -> date, null when it cannot be read.
    Understood shapes (any of - / . , or spaces as separators, any case):
      1984-03-07, 1984/3/7          year first
      07/03/1984, 7.3.1984          day first, or month first when
                                    `month_first_expression` is true (a SQL
                                    boolean, e.g. the record's country writes
                                    dates m/d/y); either order is swapped when
                                    it cannot be right (15/03 vs 03/15)
      7 Mar 1984, 7 March 1984      day, English month name, year
      Mar 7 1984, March 7, 1984     English month name, day, year
      19840307                      eight digits: year, month, day (as
                                    exports and FEBRL write them)
    A time after a year-first date (1984-03-07 00:00:00) is ignored. Two-digit
    years are not guessed. -#}
{% macro parse_date_text(text_expression, month_first_expression='false') -%}
    {{ return(adapter.dispatch('parse_date_text', 'cdp')(text_expression, month_first_expression)) }}
{%- endmacro %}

{% macro default__parse_date_text(text_expression, month_first_expression) -%}
    {%- set months = [
        'jan', 'feb', 'mar', 'apr', 'may', 'jun',
        'jul', 'aug', 'sep', 'oct', 'nov', 'dec',
    ] -%}
    {%- set words = 'trim(' ~ cdp.regexp_replace_all(
        'lower(' ~ text_expression ~ ')', '[^0-9a-z]+', ' '
    ) ~ ')' -%}
    {%- set part_1 = dbt.split_part(words, "' '", 1) -%}
    {%- set part_2 = dbt.split_part(words, "' '", 2) -%}
    {%- set part_3 = dbt.split_part(words, "' '", 3) -%}
    {%- set iso_text -%}
        case
            when {{ cdp.matches_pattern(words, '^[0-9]{8}$') }}
                then substr({{ words }}, 1, 4) || '-' || substr({{ words }}, 5, 2)
                    || '-' || substr({{ words }}, 7, 2)
            when {{ cdp.matches_pattern(words, '^[0-9]{4} [0-9]{1,2} [0-9]{1,2}( |$)') }}
                then {{ part_1 }} || '-' || {{ part_2 }} || '-' || {{ part_3 }}
            when {{ cdp.matches_pattern(words, '^[0-9]{1,2} [0-9]{1,2} [0-9]{4}$') }}
                then {{ part_3 }} || '-' || (
                    case
                        when cast({{ part_1 }} as integer) > 12
                            then {{ part_2 }} || '-' || {{ part_1 }}
                        when cast({{ part_2 }} as integer) > 12
                            then {{ part_1 }} || '-' || {{ part_2 }}
                        when coalesce({{ month_first_expression }}, false)
                            then {{ part_1 }} || '-' || {{ part_2 }}
                        else {{ part_2 }} || '-' || {{ part_1 }}
                    end
                )
            when {{ cdp.matches_pattern(words, '^[0-9]{1,2} [a-z]{3,} [0-9]{4}$') }}
                then {{ part_3 }} || '-' || (
                    case substr({{ part_2 }}, 1, 3)
                        {%- for month in months %}
                        when '{{ month }}' then '{{ loop.index }}'
                        {%- endfor %}
                    end
                ) || '-' || {{ part_1 }}
            when {{ cdp.matches_pattern(words, '^[a-z]{3,} [0-9]{1,2} [0-9]{4}$') }}
                then {{ part_3 }} || '-' || (
                    case substr({{ part_1 }}, 1, 3)
                        {%- for month in months %}
                        when '{{ month }}' then '{{ loop.index }}'
                        {%- endfor %}
                    end
                ) || '-' || {{ part_2 }}
        end
    {%- endset -%}
    {{ cdp.safe_cast_date(iso_text) }}
{%- endmacro %}
