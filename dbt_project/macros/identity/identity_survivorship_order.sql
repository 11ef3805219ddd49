{#- ORDER BY list ranking a customer's records for one golden attribute (or
    attribute group), best first, under a survivorship strategy:
      source_priority  the record's source earliest in `source_priority`,
                       then most recent
      most_recent      latest updated_at
      most_frequent    the value held by most of the customer's records
                       (`frequency_expression`), then most recent
      most_complete    the longest value, or for a group the record filling
                       most of its fields (`completeness_expression`), then
                       most recent
    Records that tie (the same updated_at, or none: a source without a change
    timestamp leaves updated_at null rather than using its landing time) go
    to the value most of the customer's records agree on
    (`frequency_expression`), then to the earliest source in
    `source_priority` when one is given, and last to the record key, so the
    pick is deterministic and one typo does not win by landing later. -#}
{% macro identity_survivorship_order(
    strategy, source_priority=[], frequency_expression='1', completeness_expression='1'
) -%}
    {{ return(adapter.dispatch('identity_survivorship_order', 'cdp')(
        strategy, source_priority, frequency_expression, completeness_expression
    )) }}
{%- endmacro %}

{% macro default__identity_survivorship_order(
    strategy, source_priority, frequency_expression, completeness_expression
) -%}
    {%- if strategy == 'source_priority' -%}
        case source_name
            {%- for source_name in source_priority %}
            when '{{ source_name }}' then {{ loop.index }}
            {%- endfor %}
            else {{ source_priority | length + 1 }}
        end,
    {%- elif strategy == 'most_frequent' -%}
        {{ frequency_expression }} desc,
    {%- elif strategy == 'most_complete' -%}
        {{ completeness_expression }} desc,
    {%- elif strategy != 'most_recent' -%}
        {{ exceptions.raise_compiler_error(
            "identity survivorship: unknown strategy '" ~ strategy
            ~ "' (source_priority, most_recent, most_frequent, most_complete)"
        ) }}
    {%- endif %}
    updated_at desc nulls last,
    {%- if strategy != 'most_frequent' %}
    {{ frequency_expression }} desc,
    {%- endif %}
    {%- if source_priority and strategy != 'source_priority' %}
    case source_name
        {%- for source_name in source_priority %}
        when '{{ source_name }}' then {{ loop.index }}
        {%- endfor %}
        else {{ source_priority | length + 1 }}
    end,
    {%- endif %}
    record_key
{%- endmacro %}
