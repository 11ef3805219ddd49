{#- The review queue's bands: the `identity_review` entry of the meta of
    identity_review_pairs (_identity_review__models.yml), with defaults, checked.
    A malformed entry stops the build with one line naming the field. -#}
{% macro identity_review_config(meta) -%}
    {%- set entry = meta.get('identity_review', {}) or {} -%}
    {%- set defaults = {'probabilistic_weight_band': 4.0, 'fuzzy_score_band': 0.05} -%}
    {%- set unknown = entry.keys() | reject('in', defaults.keys()) | list -%}
    {%- if unknown -%}
        {{ exceptions.raise_compiler_error(
            "identity review: unknown field(s) " ~ unknown | join(', ')
            ~ " in identity_review (known: " ~ defaults.keys() | join(', ') ~ ")") }}
    {%- endif -%}
    {%- set resolved = {} -%}
    {%- for name, default in defaults.items() -%}
        {%- set value = entry.get(name, default) -%}
        {%- if value is not number or value is boolean or value < 0 -%}
            {{ exceptions.raise_compiler_error(
                "identity review: field '" ~ name ~ "' must be a number >= 0, got '"
                ~ value ~ "'") }}
        {%- endif -%}
        {%- do resolved.update({name: value}) -%}
    {%- endfor -%}
    {{ return(resolved) }}
{%- endmacro %}
