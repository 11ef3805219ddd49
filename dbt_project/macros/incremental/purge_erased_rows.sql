{#- Pre-hook of an incremental model: when a privacy erasure
    (`cdp privacy erase`, privacy.erasure_log) was requested since this
    model's last build, delete the rows whose key no longer exists upstream
    (the erasure deleted its raw rows), because an incremental build only adds
    and replaces rows and would keep them. Without an erasure since the last
    build, or on an engine without the erasure log, it renders nothing, so
    normal incremental builds do not pay for the anti-join.
    `keys`: this model's key columns; `upstream_relation` and
    `upstream_keys`: where the rows come from and the matching key
    expressions, pairwise; `where`: limits the purge to this model's rows
    from that relation. Upstream keys are never null (tested not_null). -#}
{% macro purge_erased_rows(keys, upstream_relation, upstream_keys, where=none) -%}
    {{ return(adapter.dispatch('purge_erased_rows', 'cdp')(keys, upstream_relation, upstream_keys, where)) }}
{%- endmacro %}

{% macro default__purge_erased_rows(keys, upstream_relation, upstream_keys, where) -%}
    {%- if execute and is_incremental() and cdp.erased_since_last_build() -%}
        {%- set key_list = [keys] if keys is string else keys -%}
        {%- set upstream_list = [upstream_keys] if upstream_keys is string else upstream_keys -%}
        delete from {{ this }}
        where
            {% if where %}({{ where }}) and {% endif %}({{ key_list | join(', ') }}) not in (
                select {{ upstream_list | join(', ') }}
                from {{ upstream_relation }}
            )
    {%- endif -%}
{%- endmacro %}
