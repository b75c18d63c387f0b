package main

import "errors"

func frrSection(e *env) (string, error)         { return "", errors.New("todo") }
func convergenceSection(e *env) (string, error) { return "", errors.New("todo") }
func controllerSection(e *env) (string, error)  { return "", errors.New("todo") }
