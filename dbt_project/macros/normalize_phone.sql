{#- Phone number typed in any format -> E.164 ('+442079460958': '+', country
    calling code, national number; digits only), or null.

    phone_expression  the raw text
    country           alias of a joined country_codes row: the country to
                      assume for numbers written without '+' or '00'
                      (its calling_code, trunk_prefix and
                      national_number_max_length are used)

    Rules, in order:
      1. '(0)' (as in '+44 (0)20 ...') and a trailing extension
         ('ext 12', 'x12', '#12') are removed; then every character but
         digits is dropped;
      2. a leading '+' or '00' means the number is international already;
      3. a number starting with the country's trunk prefix is national: the
         prefix is dropped and the calling code put in front;
      4. a number starting with the calling code is international without
         its '+' when the country has a trunk prefix (national numbers are
         written with it) or when it is longer than a national number;
      5. anything else is a national number written without trunk prefix;
      6. the result is kept only when it has 8 to 15 digits, does not start
         with 0 after the '+', and its digits are neither one digit repeated
         ('0000000000') nor an ascending run ('123456789'). -#}
{% macro normalize_phone(phone_expression, country) -%}
    {{ return(adapter.dispatch('normalize_phone', 'cdp')(phone_expression, country)) }}
{%- endmacro %}

{% macro default__normalize_phone(phone_expression, country) -%}
    {%- set calling_code = country ~ '.calling_code' -%}
    {#- an empty trunk prefix means none, like null -#}
    {%- set trunk_prefix = 'nullif(' ~ country ~ ".trunk_prefix, '')" -%}
    {%- set without_extras = cdp.regexp_replace_all(
        cdp.regexp_replace_all(
            'lower(' ~ phone_expression ~ ')', '\(0\)', ''
        ),
        '(ext[.]?|extension|x|#)\s*[0-9]+\s*$', ''
    ) -%}
    {%- set digits = cdp.regexp_replace_all(without_extras, '[^0-9]', '') -%}
    {%- set candidate -%}
        case
            when {{ cdp.matches_pattern(without_extras, '^\s*[+]') }}
                then '+' || {{ digits }}
            when {{ digits }} like '00%'
                then '+' || substr({{ digits }}, 3)
            when
                {{ trunk_prefix }} is not null
                and substr({{ digits }}, 1, length({{ trunk_prefix }}))
                = {{ trunk_prefix }}
                then '+' || {{ calling_code }}
                || substr({{ digits }}, length({{ trunk_prefix }}) + 1)
            when
                substr({{ digits }}, 1, length({{ calling_code }}))
                = {{ calling_code }}
                and (
                    {{ trunk_prefix }} is not null
                    or length({{ digits }})
                    > {{ country }}.national_number_max_length
                )
                then '+' || {{ digits }}
            else '+' || {{ calling_code }} || {{ digits }}
        end
    {%- endset -%}
    case
        when
            {{ cdp.matches_pattern(candidate, '^[+][1-9][0-9]{7,14}$') }}
            and replace({{ digits }}, substr({{ digits }}, 1, 1), '') <> ''
            and {{ dbt.position(digits, "'0123456789012345678901234'") }} = 0
            then {{ candidate }}
    end
{%- endmacro %}
