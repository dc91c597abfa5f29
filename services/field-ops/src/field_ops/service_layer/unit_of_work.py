from clientops_shared.uow import UnitOfWork


class FieldOpsUnitOfWork(UnitOfWork):
    pass
