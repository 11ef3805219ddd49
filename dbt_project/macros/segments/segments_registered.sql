{#- Names of the segment models (config.meta cdp_segment set), sorted, each
    with its cdp_segment meta. At parse time an empty list. At execution the
    list must agree with the calling model's `-- depends_on` lines, every
    segment must have an enforced contract (syncs read it) and return a
    customer_id column; otherwise the build stops with a message naming the
    model. -#}
{% macro segments_registered() -%}
    {{ return(adapter.dispatch('segments_registered', 'cdp')()) }}
{%- endmacro %}

{% macro default__segments_registered() -%}
    {%- if not execute -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set listed = [] -%}
    {%- for parent in model.depends_on.nodes -%}
        {%- if parent.startswith('model.') -%}
            {%- do listed.append(parent.split('.')[-1]) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set registered = {} -%}
    {%- for node in graph.nodes.values() -%}
        {%- if node.resource_type == 'model' and node.config.meta.get('cdp_segment') -%}
            {%- do registered.update({node.name: node}) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- for name in registered if name not in listed -%}
        {{ exceptions.raise_compiler_error(
            "segment '" ~ name ~ "' is registered (meta cdp_segment) but "
            ~ model.name ~ " does not list it: add the line "
            ~ "-- depends_on: {{ ref('" ~ name ~ "') }}"
        ) }}
    {%- endfor -%}
    {%- set segments = [] -%}
    {%- for name in registered | sort -%}
        {%- set node = registered[name] -%}
        {%- set segment = node.config.meta.get('cdp_segment') -%}
        {%- for key in ['audience_name', 'description', 'owner'] if key not in segment -%}
            {{ exceptions.raise_compiler_error(
                "segment '" ~ name ~ "': meta cdp_segment lacks '" ~ key
                ~ "' (needs audience_name, description, owner)"
            ) }}
        {%- endfor -%}
        {%- if 'syncs' in segment -%}
            {{ exceptions.raise_compiler_error(
                "segment '" ~ name ~ "': meta cdp_segment.syncs is not read any more; "
                ~ "remove it (the syncs reading a segment are those of syncs.yml "
                ~ "whose source is the segment)"
            ) }}
        {%- endif -%}
        {%- set relation = adapter.get_relation(
            database=node.database, schema=node.schema, identifier=node.alias
        ) -%}
        {#- Not in the warehouse (compile or lint without a build): the
            check happens on the build, where segments run first. -#}
        {%- if relation is not none -%}
            {%- set columns = adapter.get_columns_in_relation(relation)
                | map(attribute='name') | map('lower') | list -%}
            {%- if 'customer_id' not in columns -%}
                {{ exceptions.raise_compiler_error(
                    "segment model '" ~ name ~ "' does not return a customer_id column "
                    ~ "(columns: " ~ (columns | join(', ')) ~ "); every segment must "
                    ~ "select customer_id"
                ) }}
            {%- endif -%}
        {%- endif -%}
        {%- if not node.config.contract.enforced -%}
            {{ exceptions.raise_compiler_error(
                "segment '" ~ name ~ "' has no enforced contract: syncs read it, so "
                ~ "declare config.contract {enforced: true} and every column with "
                ~ "its data_type (see _segments__models.yml)"
            ) }}
        {%- endif -%}
        {%- do segments.append({'name': name, 'meta': segment}) -%}
    {%- endfor -%}
    {{ return(segments) }}
{%- endmacro %}
