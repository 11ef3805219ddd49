{#- Matching key for an already normalised email: the "+tag" of the local part
    is dropped (anna+shop@x.com -> anna@x.com) and, for providers that ignore
    dots in the local part, dots are dropped and the domain unified
    (a.n.na@googlemail.com -> anna@gmail.com). Null when the email is null
    or fails is_valid_email.
    The result is for matching only, never for sending. -#}
{% macro canonicalize_email(
    email_expression,
    dotless_domains=['gmail.com', 'googlemail.com'],
    canonical_dotless_domain='gmail.com'
) -%}
    {{ return(adapter.dispatch('canonicalize_email', 'cdp')(
        email_expression, dotless_domains, canonical_dotless_domain
    )) }}
{%- endmacro %}

{% macro default__canonicalize_email(
    email_expression, dotless_domains, canonical_dotless_domain
) -%}
    {%- set local_part = dbt.split_part(
        dbt.split_part(email_expression, "'@'", 1), "'+'", 1
    ) -%}
    {%- set domain = dbt.split_part(email_expression, "'@'", 2) -%}
    case
        when not {{ cdp.is_valid_email(email_expression) }} then null
        when {{ domain }} in (
            {%- for dotless_domain in dotless_domains -%}
                '{{ dotless_domain }}'{{ ', ' if not loop.last }}
            {%- endfor -%}
        )
            then replace({{ local_part }}, '.', '')
            || '@{{ canonical_dotless_domain }}'
        else {{ local_part }} || '@' || {{ domain }}
    end
{%- endmacro %}
