{#- A filter for the source CTE of an incremental staging model: every raw
    version of the keys that arrived in a landing run after the latest one
    this model has already processed. The watermark is `_loaded_at`, the
    landing time, never the event time, so late events are picked up. Taking
    all versions of those keys, old ones too, lets the latest-version rank
    choose exactly as a full build would. A landing run stamps all its rows
    with its start time, so a build must not overlap an ingest (`cdp run`, the
    Dagster job and the sensors run them one after the other).
    Use inside `{% if is_incremental() %}`. -#}
{% macro landed_since_last_build(source_relation, key_columns) -%}
    {{ return(adapter.dispatch('landed_since_last_build', 'cdp')(source_relation, key_columns)) }}
{%- endmacro %}

{% macro default__landed_since_last_build(source_relation, key_columns) -%}
    {%- set key_list = [key_columns] if key_columns is string else key_columns -%}
    {%- set keys = key_list | join(', ') -%}
    {%- if key_list | length > 1 %}({{ keys }}){% else %}{{ keys }}{% endif %} in (
        select {{ keys }}
        from {{ source_relation }}
        where _loaded_at > (
            select coalesce(max(_loaded_at), {{ cdp.incremental_epoch() }})
            from {{ this }}
        )
    )
{%- endmacro %}
