"""Warehouse-native customer data platform: command-line entry points and core Python code."""
