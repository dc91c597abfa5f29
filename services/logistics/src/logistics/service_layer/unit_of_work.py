from clientops_shared.uow import UnitOfWork


class LogisticsUnitOfWork(UnitOfWork):
    pass
