{#- Window expression numbering the versions of each key from the latest (1)
    down. `version_columns` are compared first, newest first, missing values
    last; ties are broken by when and from where the row was landed
    (_loaded_at, _source_file, _source_line), so the pick is deterministic.
    Keep the rows where it equals 1. -#}
{% macro latest_version_rank(key_columns, version_columns=[]) -%}
    {{ return(adapter.dispatch('latest_version_rank', 'cdp')(key_columns, version_columns)) }}
{%- endmacro %}

{% macro default__latest_version_rank(key_columns, version_columns) -%}
    {%- set key_list = [key_columns] if key_columns is string else key_columns -%}
    {%- set version_list = [version_columns] if version_columns is string else version_columns -%}
    row_number() over (
        partition by {{ key_list | join(', ') }}
        order by
            {%- for version_column in version_list %}
            {{ version_column }} desc nulls last,
            {%- endfor %}
            _loaded_at desc nulls last,
            _source_file desc nulls last,
            _source_line desc nulls last
    )
{%- endmacro %}
