{#- The strong match rules of a validated configuration: those without a
    max_people_per_value condition, in their order. Their pairs are computed
    once (int_identity_pairs_strong); the other (weak) rules read how many
    people hold a value, which the strong links decide. -#}
{% macro identity_strong_rules(identity_config) -%}
    {%- set strong_rules = [] -%}
    {%- for rule in identity_config.rules -%}
        {%- set limited = [] -%}
        {%- for condition in rule.conditions if condition.max_people_per_value is not none -%}
            {%- do limited.append(condition) -%}
        {%- endfor -%}
        {%- if limited | length == 0 %}{% do strong_rules.append(rule) %}{% endif -%}
    {%- endfor -%}
    {{ return(strong_rules) }}
{%- endmacro %}
